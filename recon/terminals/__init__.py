"""Terminals blueprint: browser terminals on hosts (one ttyd per session, via RECON only).

``manager`` creates and closes sessions (state in SQLite), ``ttyd`` runs the processes,
``proxy``/``websocket`` are the only way to reach them, ``gc`` reaps them in the
background (started by the WSGI entry point, never by the factory), ``cli`` offers
``flask --app wsgi recon gc``.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask.cli import AppGroup

bp = Blueprint("terminals", __name__)


def init_app(app: Flask) -> None:
    """Add ``gc`` to the app's ``recon`` command group (creating the group if missing)."""
    from .cli import register_cli

    group = app.cli.commands.get("recon")
    if group is None:
        group = AppGroup("recon", help="RECON administration.")
        app.cli.add_command(group)
    register_cli(group)  # type: ignore[arg-type]


def start_background(app: Flask):
    """Start this process's terminal GC thread (call from the WSGI entry point only)."""
    from . import gc

    return gc.start(app)


bp.record_once(lambda state: init_app(state.app))

from . import models, routes  # noqa: E402,F401  (tables and views register on import)

__all__ = ["bp", "init_app", "start_background"]
