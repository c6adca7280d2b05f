"""Notifications on state changes (issue 15): channels from ``[notify.NAME]`` in recon.toml,
fed by the monitor's events in the process that holds the monitor's lease
(:func:`.worker.start`).

The package imports nothing itself: :mod:`recon.config` imports :mod:`.config`, which must not
pull in the worker.
"""
