"""The fleet monitor: per-host supervisors publish a shared status snapshot that every
request reads, so no page view ever waits on SSH (see :mod:`.runner`, :mod:`.supervisor`)."""

from __future__ import annotations

from flask import Flask

from .runner import Monitor


def start_background(app: Flask) -> Monitor:
    """Start this process's monitor (from the WSGI entry point or a CLI command, never from
    the factory); kept in ``app.extensions`` so a request can poke a supervisor."""
    monitor = Monitor(app).start()
    app.extensions["recon.monitor"] = monitor
    return monitor


__all__ = ["Monitor", "start_background"]
