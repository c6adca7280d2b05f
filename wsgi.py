"""gunicorn entry point: ``gunicorn wsgi:app``.

Background work starts here, once per (worker) process, never in the factory: CLI commands
and tests build apps without it. Every worker starts a fleet monitor, but only the one that
holds the database lease runs the host supervisors (the others take over if it dies).
``flask --app wsgi ...`` imports this module too, so nothing starts under the flask CLI
(``flask --app wsgi recon monitor`` runs the monitor in the foreground instead, and
``flask --app wsgi recon gc`` one terminal GC pass).
"""

import os

from recon.entry.app import served_app

app = served_app(cli=os.environ.get("FLASK_RUN_FROM_CLI") == "true")
