"""Login and logout pages, ``/api/me``, and the admin API for users and tokens."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from recon.audit import store as audit
from recon.auth.accounts import (
    create_token,
    create_user,
    end_session,
    last_logins,
    remove_user,
    revoke_token,
    start_session,
    token_creators,
    update_user,
)
from recon.auth.guard import AMBIENT, csrf_ok, csrf_token
from recon.auth.login import attempt
from recon.auth.models import ApiToken, User
from recon.core.clock import iso
from recon.core.errors import ApiError, InvalidBody, InvalidParameter, ReconError
from recon.db.extensions import db
from recon.web.error_responses import error_json
from recon.web.policy import current_user, require_role

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """``target`` if it is a plain path on this site, else the dashboard.

    Browsers and werkzeug normalise ``/\\host``, ``/%09/host`` and ``/\t/host`` into
    ``//host`` (another site), so anything with a backslash, a control character or
    whitespace, an encoded slash/backslash/control byte, a scheme or a netloc is refused
    rather than cleaned."""
    fallback = url_for("dashboard.index")
    if not target or len(target) > 2000 or not target.startswith("/"):
        return fallback
    decoded = unquote(target)
    for text in (target, decoded):
        if "\\" in text or any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
            return fallback
        if text.startswith("//") or text.startswith("/\\"):
            return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") \
            or parts.path.startswith("//"):
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html", csrf=csrf_token(), error=None,
                               next=request.args.get("next", ""))
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    nxt = request.form.get("next") or ""
    try:
        if not csrf_ok():
            raise ApiError(400, "csrf_failed", "Your login form expired; please try again.",
                           "Reload the login page and send its form with its csrf_token.")
        user = attempt(username, password, request.remote_addr)
    except ReconError as refused:
        return _refused(refused, username, nxt)
    lifetime = current_app.permanent_session_lifetime
    session.clear()
    session.permanent = True
    session["sid"] = start_session(user, lifetime.total_seconds())
    csrf_token()
    audit.record("login", success=True, actor=user.username)
    return redirect(_safe_next(nxt))


def _refused(exc: ReconError, username: str, nxt: str):
    """A refused login: the login page with the message for a browser (one that asks for
    HTML by name), the JSON error for anything else; both with the status and Retry-After."""
    if not any(mime in ("text/html", "application/xhtml+xml")
               for mime, _ in request.accept_mimetypes):
        return error_json(exc)
    resp = make_response(render_template("auth/login.html", csrf=csrf_token(),
                                         error=exc.message, next=nxt, username=username),
                         exc.status)
    if exc.retry_after is not None:
        resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


@bp.post("/logout")
def logout():
    raw = session.get("sid")
    if raw:
        end_session(raw)
    audit.record("logout", success=True)
    session.clear()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"ok": True})
    return redirect(url_for("auth.login"))


@bp.get("/api/me")
def me():
    user = current_user()
    return jsonify({"username": user.username, "role": user.role, "via": user.via,
                    "csrf_token": csrf_token() if user.via in AMBIENT else None})


def _account_call(fn, *args):
    return fn(*args)  # an AccountError renders itself (recon.core.errors)


def _body(*keys: str) -> list[str]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidBody("expected a JSON object",
                          f"Send JSON with {', '.join(keys)}.")
    values = []
    for key in keys:
        value = data.get(key)
        if not isinstance(value, str):
            raise InvalidParameter(key, f"{key} must be a string",
                                   f"Send JSON with {', '.join(keys)}.")
        values.append(value)
    return values


@bp.get("/api/users")
@require_role("admin")
def list_users():
    users = db.session.scalars(sa.select(User).order_by(User.username))
    logins = last_logins()
    return jsonify({"users": [{**u.to_dict(), "last_login_at": iso(logins.get(u.id))}
                              for u in users]})


@bp.post("/api/users")
@require_role("admin")
def add_user():
    username, password, role = _body("username", "password", "role")
    user = _account_call(create_user, username, password, role)
    audit.record("user_add", success=True, output=f"{username} ({role})")
    return jsonify(user.to_dict()), 201


@bp.patch("/api/users/<username>")
@require_role("admin")
def change_user(username: str):
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not set(data) <= {"role", "password"} or not data:
        raise InvalidBody("expected a JSON object with role and/or password",
                          'Send e.g. {"role": "operator"}.')
    for key, value in data.items():
        if not isinstance(value, str):
            raise InvalidParameter(key, f"{key} must be a string",
                                   'Send e.g. {"role": "operator"}.')
    user = _account_call(lambda: update_user(username, role=data.get("role"),
                                             password=data.get("password")))
    audit.record("user_change", success=True, output=f"{username}: {sorted(data)}")
    return jsonify(user.to_dict())


@bp.delete("/api/users/<username>")
@require_role("admin")
def delete_user(username: str):
    _account_call(remove_user, username)
    audit.record("user_remove", success=True, output=username)
    return jsonify({"ok": True})


@bp.get("/api/tokens")
@require_role("admin")
def list_tokens():
    tokens = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.name))
    creators = token_creators()
    return jsonify({"tokens": [{**t.to_dict(), "created_by": creators.get(t.name)}
                               for t in tokens]})


@bp.post("/api/tokens")
@require_role("admin")
def add_token():
    name, role = _body("name", "role")
    token, raw = _account_call(create_token, name, role)
    audit.record("token_add", success=True, output=f"{name} ({role})")
    return jsonify({**token.to_dict(), "token": raw}), 201


@bp.delete("/api/tokens/<name>")
@require_role("admin")
def delete_token(name: str):
    _account_call(revoke_token, name)
    audit.record("token_revoke", success=True, output=name)
    return jsonify({"ok": True})
