"""Terminals blueprint: browser terminals on hosts (one ttyd per session, via RECON only).

``manager`` creates and closes sessions (state in SQLite), ``ttyd`` runs the processes,
``proxy``/``websocket`` are the only way to reach them, ``gc`` reaps them in the
background (started by the WSGI entry point, never by the factory), ``cli`` offers
``flask --app wsgi recon gc``.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("terminals", __name__)


def start_background(app: Flask):
    """Start this process's terminal GC thread (call from the WSGI entry point only)."""
    from . import gc

    return gc.start(app)


from . import models, routes  # noqa: E402,F401  (tables and views register on import)

__all__ = ["bp", "start_background"]
