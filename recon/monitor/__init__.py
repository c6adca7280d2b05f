"""The fleet monitor: per-host supervisors publish a shared status snapshot that every
request reads, so no page view ever waits on SSH (see :mod:`.runner`, :mod:`.supervisor`).

The package imports nothing itself: the snapshot and its models sit low in the import graph
(routes, rolling actions and metrics read them), the runner high (it runs the repairs), so
importing one must not import the other. Start the monitor with
:func:`recon.monitor.runner.start_background`.
"""
