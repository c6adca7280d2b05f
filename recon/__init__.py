"""RECON: a dashboard for the systemd services of a small fleet, over SSH.

This module holds the app factory and nothing else: the layers and features it wires are
described in ARCHITECTURE.md.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask


def default_config_path(instance: Path) -> Path:
    """``instance/recon.toml``; while only the demo target's config exists (``make run``
    without a config), that one, so CLI commands see the same services as the server."""
    main, demo = instance / "recon.toml", instance / "demo" / "recon.toml"
    return demo if not main.exists() and demo.exists() else main


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Starts no threads and opens no sockets: SSH connects lazily and
    background work is started by the WSGI entry point (:mod:`recon.jobs.background`)."""
    app = Flask(__name__, instance_relative_config=True)
    instance = Path(app.instance_path)
    _process_settings(app, instance, test_config)
    _load_recon_config(app, instance)
    _install(app)
    return app


def _process_settings(app: Flask, instance: Path, test_config: dict[str, Any] | None) -> None:
    """Flask's own settings and the process settings from the environment."""
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'recon.db'}",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 15}},
        RECON_CONFIG=os.environ.get("RECON_CONFIG") or str(default_config_path(instance)),
        RECON_CORS_ORIGINS=[o for o in os.environ.get("RECON_CORS_ORIGINS", "").split(",") if o],
        RECON_TRUSTED_PROXIES=[
            a for a in os.environ.get("RECON_TRUSTED_PROXIES", "").split(",") if a],
        RECON_PROXY_USER_HEADER=os.environ.get("RECON_PROXY_USER_HEADER") or None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("RECON_SECURE_COOKIES", "") in ("1", "true"),
        PERMANENT_SESSION_LIFETIME=int(os.environ.get("RECON_SESSION_HOURS", "12")) * 3600,
        # The cookie is set at login and then left alone (the login's own row expires at a
        # fixed time anyway): re-signed on every response it would change each second, and
        # nginx, which keeps a browser on one replica by hashing it, would scatter its
        # requests -- and its terminal's WebSocket -- over the replicas.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    if "RECON_DATABASE_URI" in os.environ:
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["RECON_DATABASE_URI"]
    if test_config:
        app.config.update(test_config)


def _load_recon_config(app: Flask, instance: Path) -> None:
    """The checked instance folder, ``recon.toml`` and what derives from it (database
    timeouts, known_hosts, the session secret); the config and the executor become the app's
    runtime (:func:`recon.web.context.runtime`, the one way to reach them)."""
    from recon.config import load_config
    from recon.db.instance import StartupError, prepare, secret_key, warn_loose
    from recon.web.context import Runtime

    prepare(instance, app.config["SQLALCHEMY_DATABASE_URI"])
    warn_loose(instance, app.config["SQLALCHEMY_DATABASE_URI"])
    config = load_config(Path(app.config["RECON_CONFIG"]),
                         check_keys=not app.config.get("RECON_DEFER_KEY_CHECK"))
    for warning in config.warnings:
        logging.getLogger("recon.config").warning("%s", warning)
    # Every gthread thread may hold one connection; a locked database answers 503 after
    # database_busy_seconds instead of tying the request up for long.
    engine = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    busy = config.settings.database_busy_seconds
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # 8 connections kept per process, more opened while requests need them: up to one
        # per gunicorn thread (64 under `make run`) plus the monitor's own, so a burst of
        # requests never starves the monitor's lease renewals (a pool smaller than the
        # threads did: the leases lapsed under load). PostgreSQL's max_connections must
        # cover it (README: Running more than one). A connection or a lock waited for past
        # the busy time is a 503 database_busy, as SQLite's busy timeout is.
        engine.setdefault("pool_size", 8)
        engine.setdefault("max_overflow", 64)
        engine.setdefault("pool_timeout", busy)
        args = {k: v for k, v in engine.get("connect_args", {}).items() if k != "timeout"}
        engine["connect_args"] = {**args, "connect_timeout": max(1, round(busy)),
                                  "options": f"-c lock_timeout={int(busy * 1000)}"}
    else:
        engine.setdefault("pool_size", 16)
        engine.setdefault("max_overflow", 128)
        engine["connect_args"] = {**engine.get("connect_args", {}), "timeout": busy}
    app.config.setdefault("RECON_KNOWN_HOSTS",
                          config.source.parent / config.settings.known_hosts)
    if not app.config.get("SECRET_KEY"):
        try:
            app.config["SECRET_KEY"] = os.environ.get("RECON_SECRET_KEY") or secret_key(instance)
        except OSError as exc:
            raise StartupError([f"cannot keep the session secret in {instance} ({exc}); "
                                "make the folder writable, or set RECON_SECRET_KEY"]) from None
    app.extensions["recon"] = Runtime.build(app, config)


def _install(app: Flask) -> None:
    """Extensions, blueprints, commands and the schema. Imported here, as flaskr does, so
    importing ``recon.config`` or ``recon.demo`` does not pull in every view."""
    from recon import auth, rolling, services
    from recon.audit import routes as audit
    from recon.db import postgres
    from recon.db.extensions import cors, db, migrate
    from recon.db.schema import MIGRATIONS, ensure_schema
    from recon.entry import cli
    from recon.hosts import routes as hosts
    from recon.liveconfig import routes as liveconfig
    from recon.logs import routes as logs
    from recon.metrics import routes as metrics
    from recon.monitor import health
    from recon.notify import routes as notify
    from recon.onboarding import routes as onboarding
    from recon.pages import admin
    from recon.pages import routes as pages
    from recon.recordings import routes as recordings
    from recon.terminals import identity_routes as terminal_identity
    from recon.terminals import routes as terminals
    from recon.web import error_responses, security

    db.init_app(app)
    postgres.init_app(app)  # first: its before_request starts the request's transaction
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    if app.config["RECON_CORS_ORIGINS"]:  # default: no cross-origin access at all
        cors.init_app(app, origins=app.config["RECON_CORS_ORIGINS"])
    error_responses.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    cli.init_app(app)
    for module in (health, pages, admin, services, logs, terminals, audit, notify, metrics,
                   rolling, liveconfig, onboarding, hosts, recordings, terminal_identity):
        app.register_blueprint(module.bp)
    _register_models()
    done = ensure_schema(app)
    if done:
        logging.getLogger("recon.db.schema").info("%s", done)


def _register_models() -> None:
    """Import every model module, so the schema check sees all tables (a feature's models
    are its own; storage knows none of them)."""
    from recon.audit import models as audit_models  # noqa: F401
    from recon.auth import models as auth_models  # noqa: F401
    from recon.hosts import models as host_models  # noqa: F401
    from recon.liveconfig import models as liveconfig_models  # noqa: F401
    from recon.monitor import models as monitor_models  # noqa: F401
    from recon.notify import models as notify_models  # noqa: F401
    from recon.recordings import models as recording_models  # noqa: F401
    from recon.rolling import models as rolling_models  # noqa: F401
    from recon.terminals import identity as terminal_identities  # noqa: F401
    from recon.terminals import models as terminal_models  # noqa: F401
    from recon.web import slots  # noqa: F401
