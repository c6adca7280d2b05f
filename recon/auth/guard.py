"""Every request but login, health and static files needs a user or an API token.

Also CSRF: a state-changing request authenticated by the session cookie must carry the
session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``). Token and proxy
requests carry no ambient credential, so they are exempt.
"""

from __future__ import annotations

import hmac
import secrets

import sqlalchemy as sa
from flask import Flask, current_app, g, redirect, request, session, url_for

from recon.auth.accounts import find_user, session_row, session_user, token_principal
from recon.auth.models import ApiToken
from recon.core.errors import ApiError
from recon.db.extensions import db
from recon.web.policy import Principal, current_user
from recon.web.security import peer_address

PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


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
    if principal.via == "session" and request.method not in SAFE_METHODS and not csrf_ok():
        raise ApiError(403, "csrf_failed", "missing or wrong CSRF token",
                       "Reload the page; scripts should use an API token instead of a cookie.")
    return None


def init_app(app: Flask) -> None:
    app.config.setdefault("RECON_TRUSTED_PROXIES", [])
    app.config.setdefault("RECON_PROXY_USER_HEADER", None)
    app.before_request(authenticate)
    app.jinja_env.globals["csrf_token"] = csrf_token
