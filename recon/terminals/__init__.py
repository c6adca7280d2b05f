"""Terminals blueprint: browser terminals on hosts (one ttyd per session, via RECON only).

``manager`` creates and closes sessions (state in SQLite), ``ttyd`` runs the processes,
``proxy``/``websocket`` are the only way to reach them, ``gc`` reaps them in the
background (started by the WSGI entry point, never by the factory), ``cli`` offers
``flask --app wsgi recon gc``.

The package imports nothing itself (as :mod:`recon.monitor`): low-level users such as
:mod:`recon.web.slots` read :mod:`.ttyd` without pulling in the routes and the GC thread.
"""
