"""The app as the servers load it (``wsgi.py`` for gunicorn and the flask CLI, and
``recon.entry.serve`` for ``make run``): start-up errors as a message list instead of a traceback,
and the background work that the factory never starts."""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask

from recon import create_app
from recon.config import ConfigError
from recon.db.instance import StartupError
from recon.jobs import background


def instance_path() -> Path:
    """The instance folder the factory will use: Flask's rule for this package (the folder
    beside the checkout's ``recon/``, or ``<prefix>/var/recon-instance`` when installed), so
    it does not depend on the working directory."""
    return Path(Flask("recon", instance_relative_config=True).instance_path)


def served_app(*, cli: bool) -> Flask:
    """Build the app; under a server (``cli=False``) also start this process's background
    work (:mod:`recon.jobs.background`). Under the flask CLI a missing key is not fatal:
    ``recon keygen`` is how it comes to exist."""
    try:
        app = create_app({"RECON_DEFER_KEY_CHECK": True} if cli else None)
    except (ConfigError, StartupError) as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    if not cli:
        background.start(app)
    return app
