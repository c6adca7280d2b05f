"""Every request but login, health and static files needs a user or an API token.

Also CSRF: a state-changing request from a browser must carry the session's CSRF token
(header ``X-CSRF-Token`` or form field ``csrf_token``). That is every caller but an API
token: a login session's cookie is ambient, and so is whatever the browser holds for an auth
proxy that names its user in ``RECON_PROXY_USER_HEADER`` (the proxy's cookie, Basic auth, a
client certificate) -- another site's form would carry it. A refusal is audited.
"""

from __future__ import annotations

import hmac
import secrets

import sqlalchemy as sa
from flask import Flask, current_app, g, redirect, request, session, url_for

from recon.audit import store as audit
from recon.auth.accounts import find_user, session_row, session_user, token_principal
from recon.auth.models import ApiToken
from recon.core.errors import ApiError
from recon.db.extensions import db
from recon.web.context import runtime
from recon.web.policy import Principal, current_user
from recon.web.security import peer_address

PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Callers whose credential the browser sends on its own, so another site can make it send it.
AMBIENT = {"session", "proxy"}


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok() -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(sent, expected)


def auth_ref() -> str | None:
    """The login behind this request, for things that must end with it (terminals):
    ``session:<id>``, ``token:<id>`` or ``proxy:<user>``."""
    principal = current_user()
    if principal.via == "session":
        row = session_row(session.get("sid") or "")
        return f"session:{row.id}" if row is not None else None
    if principal.via == "token":
        token = db.session.scalar(sa.select(ApiToken).where(
            ApiToken.name == principal.username.removeprefix("token:")))
        return f"token:{token.id}" if token is not None else None
    if principal.via == "proxy":
        return f"proxy:{principal.username}"
    return None


def _principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        token = token_principal(header[7:].strip())
        return Principal(f"token:{token.name}", token.role, "token") if token else None
    proxy_header = current_app.config.get("RECON_PROXY_USER_HEADER")
    if proxy_header and peer_address() in current_app.config["RECON_TRUSTED_PROXIES"]:
        name = request.headers.get(proxy_header)
        user = find_user(name) if name else None
        if user is not None:
            return Principal(user.username, user.role, "proxy")
    raw = session.get("sid")
    if raw:
        user = session_user(raw)
        if user is not None:
            return Principal(user.username, user.role, "session")
        session.clear()
    return None


def _wants_json() -> bool:
    path = request.path
    if path.startswith("/api/") or path == "/metrics" or (
            path.startswith("/terminals/") and "/tty/" in path):
        return True
    return request.accept_mimetypes.best == "application/json"


def authenticate():
    """before_request: resolve the caller, refuse anonymous requests, check CSRF."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    principal = _principal()
    if principal is None:
        if _wants_json():
            raise ApiError(401, "unauthenticated", "log in or send an API token",
                           "Send `Authorization: Bearer <token>` (flask --app wsgi recon "
                           "tokens add NAME) or log in at /login.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    g.principal = principal
    g.actor = principal.username
    if principal.via in AMBIENT and request.method not in SAFE_METHODS and not csrf_ok():
        _refuse_csrf()
    return None


def _refuse_csrf() -> None:
    """403 ``csrf_failed``, audited as the action it refused (nothing else happens)."""
    args = request.view_args or {}
    service = runtime().config.services.get(str(args.get("slug")))
    action = args.get("action") if isinstance(args.get("action"), str) else None
    origin = request.headers.get("Origin") or request.headers.get("Sec-Fetch-Site") or "-"
    audit.record((action or request.endpoint or "request")[:40], success=False,
                 service=service.slug if service else None,
                 host=service.host if service else None, error="csrf_failed",
                 output=f"{request.method} {request.path} (origin: {origin[:200]})")
    raise ApiError(403, "csrf_failed", "missing or wrong CSRF token",
                   "Reload the page; scripts should use an API token instead of a cookie.")


def init_app(app: Flask) -> None:
    app.config.setdefault("RECON_TRUSTED_PROXIES", [])
    app.config.setdefault("RECON_PROXY_USER_HEADER", None)
    app.before_request(authenticate)
    app.jinja_env.globals["csrf_token"] = csrf_token
