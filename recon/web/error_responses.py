"""JSON errors: every failure answers ``{"error", "message", "hint"}`` with a fitting status (the
error type itself is :class:`recon.core.errors.ReconError`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from recon.core.errors import ReconError
from recon.db.extensions import db
from recon.web.context import runtime
from recon.web.policy import current_user


def error_response(body: dict, status: int) -> tuple[Response, int]:
    return jsonify(body), status


# Failures an operator debugs from a shell: the hint names the exact ssh command for the host.
SSH_DEBUGGABLE = ("unreachable", "timeout", "host_down", "auth_failed", "host_key_unknown",
                  "host_key_changed", "key_unreadable")


def error_json(exc: ReconError, **fields: object) -> tuple[Response, int]:
    """``exc`` as a response: its body (plus ``fields`` such as the action's own keys), its
    status and, when known, when to retry."""
    resp = jsonify({**fields, **error_body(exc)})
    if exc.retry_after is not None:
        resp.headers["Retry-After"] = str(exc.retry_after)
    return resp, exc.status


def error_body(exc: ReconError) -> dict:
    """The JSON body of ``exc`` as every route answers it (with the host's ssh command)."""
    return with_ssh_command(exc.to_dict())


def with_ssh_command(body: dict) -> dict:
    """For an admin, add ``ssh``: this host's troubleshooting command (port, key,
    known_hosts), and say so in the hint. Anyone else gets the same code and hint without
    it, and no file path at all: RECON's key, known_hosts and instance paths are replaced
    by what they are."""
    config = getattr(current_app.extensions.get("recon"), "config", None)
    if not current_user().can("admin"):
        return _without_paths(body, config)
    host = config.hosts.get(body.get("host") or "") if config else None
    if host is not None and body.get("error") in SSH_DEBUGGABLE and "ssh" not in body:
        command = host.ssh_command(current_app.config["RECON_KNOWN_HOSTS"])
        body = {**body, "ssh": command, "hint": f"{body['hint']} Try: {command} true"}
    return body


def _without_paths(body: dict, config) -> dict:
    names = {str(current_app.config.get("RECON_KNOWN_HOSTS") or ""): "RECON's known_hosts file",
             current_app.instance_path: "RECON's instance folder"}
    if config is not None:
        names.update({str(h.key_path): f"the key file of {h.name}"
                      for h in config.hosts.values()})
    paths = sorted((p for p in names if p), key=len, reverse=True)  # longest first

    def clean(text: str) -> str:
        for path in paths:
            text = text.replace(path, names[path])
        return text

    return {k: clean(v) if isinstance(v, str) else v for k, v in body.items()}


def init_app(app: Flask) -> None:
    """Register the JSON error handlers."""

    @app.errorhandler(ReconError)
    def _recon_error(exc: ReconError):
        return error_json(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not request.path.startswith("/api/") and request.path != "/healthz":
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        hints = {
            404: "Check the URL; GET /api/services lists every service.",
            405: "Check the HTTP method: reads are GET, actions are POST.",
            413: "Send a smaller body (settings.max_request_bytes).",
        }
        return error_response(
            {"error": code, "message": exc.description or exc.name,
             "hint": hints.get(exc.code or 0, "Check the request.")},
            exc.code or 500,
        )

    @app.errorhandler(sa.exc.TimeoutError)
    def _pool_exhausted(exc: sa.exc.TimeoutError):
        # every connection of this process's pool in use for the whole busy time
        db.session.rollback()
        resp, status = error_response(
            {"error": "database_busy",
             "message": "every database connection of this server stayed in use",
             "hint": "Retry in a moment; if it lasts, the server has more requests than "
                     "database connections (README: Running more than one). Nothing was "
                     "changed."}, 503)
        resp.headers["Retry-After"] = "2"
        return resp, status

    @app.errorhandler(sa.exc.OperationalError)
    def _database_error(exc: sa.exc.OperationalError):
        db.session.rollback()
        if exc.connection_invalidated:
            # PostgreSQL restarted or dropped the connection: the pool has thrown away every
            # connection made before, so the retry gets a fresh one.
            resp, status = error_response(
                {"error": "database_unavailable",
                 "message": "the connection to the database was lost",
                 "hint": "RECON reconnects by itself: retry in a moment. If it keeps "
                         "failing, check that PostgreSQL runs and RECON can reach it."}, 503)
            resp.headers["Retry-After"] = "1"
            return resp, status
        # SQLite: "database is locked"; PostgreSQL: "canceling statement due to lock timeout".
        if not any(word in str(exc.orig) for word in ("locked", "busy", "lock timeout")):
            raise exc
        wait = runtime(app).config.settings.database_busy_seconds
        resp, status = error_response(
            {"error": "database_busy",
             "message": f"the database stayed locked for {wait:g} s",
             "hint": "Another process holds RECON's database (a backup, a long CLI command); "
                     "retry in a moment. Nothing was changed."}, 503)
        resp.headers["Retry-After"] = "2"
        return resp, status

    @app.errorhandler(500)
    def _internal(exc):
        db.session.rollback()
        return error_response(
            {"error": "internal_error", "message": "RECON hit an unexpected error.",
             "hint": "See the dashboard's log for the traceback."}, 500)
