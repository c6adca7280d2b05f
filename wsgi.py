"""gunicorn entry point: ``gunicorn wsgi:app``.

Background work starts here, once per (worker) process, never in the factory: CLI commands
and tests build apps without it. Every worker starts a fleet monitor, but only the one that
holds the database lease runs the host supervisors (the others take over if it dies).
``flask --app wsgi ...`` imports this module too, so nothing starts under the flask CLI
(``flask --app wsgi recon monitor`` runs the monitor in the foreground instead, and
``flask --app wsgi recon gc`` one terminal GC pass).
"""

import os
import sys

from recon import create_app, monitor, terminals
from recon.config import ConfigError
from recon.instance import StartupError

_cli = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
try:
    # Under the CLI a missing key is not fatal: `recon keygen` is how it comes to exist.
    app = create_app({"RECON_DEFER_KEY_CHECK": True} if _cli else None)
except (ConfigError, StartupError) as exc:  # the message list, not a traceback
    print(exc, file=sys.stderr)
    raise SystemExit(2) from None

if not _cli:
    terminals.start_background(app)
    monitor.start_background(app)
