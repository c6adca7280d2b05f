"""The fleet monitor: per-host supervisors publish a shared status snapshot that every
request reads, so no page view ever waits on SSH (see :mod:`.lease`, :mod:`.supervisor`).

The package imports nothing itself: the snapshot and its models sit low in the import graph
(routes, rolling actions and metrics read them), so importing them must not import the
supervisors. The monitor is started with its leader duties by
:func:`recon.jobs.background.start_monitor`.
"""
