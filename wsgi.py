"""gunicorn entry point: ``gunicorn wsgi:app``.

Background work starts here, once per (worker) process, never in the factory: CLI commands
and tests build apps without it. ``flask --app wsgi ...`` imports this module too, so the
terminal GC thread is skipped under the flask CLI (``flask --app wsgi recon gc`` runs one
pass by hand instead).
"""

import os

from recon import create_app, terminals

app = create_app()

if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
    terminals.start_background(app)
