"""The app as the servers load it (``wsgi.py`` for gunicorn and the flask CLI, and
``recon.serve`` for ``make run``): start-up errors as a message list instead of a traceback,
and the background work that the factory never starts."""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask

from . import create_app
from .config import ConfigError
from .instance import StartupError
from .monitor.runner import start_background as start_monitor
from .terminals.gc import start as start_terminal_gc


def instance_path() -> Path:
    """The instance folder the factory will use: Flask's rule for this package (the folder
    beside the checkout's ``recon/``, or ``<prefix>/var/recon-instance`` when installed), so
    it does not depend on the working directory."""
    return Path(Flask("recon", instance_relative_config=True).instance_path)


def served_app(*, cli: bool) -> Flask:
    """Build the app; under a server (``cli=False``) also start this process's terminal GC
    and fleet monitor. Under the flask CLI a missing key is not fatal: ``recon keygen`` is
    how it comes to exist."""
    try:
        app = create_app({"RECON_DEFER_KEY_CHECK": True} if cli else None)
    except (ConfigError, StartupError) as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    if not cli:
        start_terminal_gc(app)
        start_monitor(app)
    return app
