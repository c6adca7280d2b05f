"""Account operations shared by the login page, the admin API and the CLI."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import sqlalchemy as sa

from recon.audit.models import AuditEntry
from recon.auth.models import (
    TOKEN_PREFIX,
    ApiToken,
    LoginSession,
    User,
    new_secret,
    token_hash,
)
from recon.core.clock import now
from recon.core.errors import ReconError
from recon.db.extensions import db
from recon.db.transactions import write_transaction
from recon.web.policy import ROLES

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
PASSWORD_HINT = (f"Choose {MIN_PASSWORD} to {MAX_PASSWORD} characters without control "
                 "characters; a passphrase of a few words works well.")


class AccountError(ReconError, ValueError):
    """A refused account operation; ``code`` is the API error code (404 for an unknown
    user or token, 409 for one that exists, 400 otherwise)."""

    hint = "Check the request body."

    def __init__(self, code: str, message: str, hint: str | None = None,
                 status: int | None = None):
        if status is None:
            status = 404 if code.startswith("unknown_") else 409 if code.endswith("_exists") \
                else 400
        super().__init__(message, code=code, status=status, hint=hint)


# Called with ``user=`` or ``auth_ref=`` when rights end (logout, delete, demote, password
# change, token revoke): the terminals register here and close at once, so accounts need not
# know what a login may have opened.
_access_ended: list[Callable[..., object]] = []


def on_access_ended(callback: Callable[..., object]) -> Callable[..., object]:
    """Register ``callback(user=...)`` / ``callback(auth_ref=...)`` for ended rights."""
    _access_ended.append(callback)
    return callback


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError("invalid_role", f"role must be one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    """The policy: 10 to 1024 characters of text without control characters (NUL, newline,
    tab, DEL, C1) or lone surrogates (which cannot even be encoded to be hashed)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError("weak_password",
                           f"passwords need at least {MIN_PASSWORD} characters", PASSWORD_HINT)
    if len(password) > MAX_PASSWORD:
        raise AccountError("password_too_long",
                           f"passwords may have at most {MAX_PASSWORD} characters",
                           PASSWORD_HINT)
    bad = {unicodedata.category(c) for c in password} & {"Cc", "Cs"}
    if bad:
        raise AccountError("invalid_password",
                           "passwords may not contain control characters (NUL, newline, "
                           "tab, ...)" if "Cc" in bad else
                           "passwords must be valid Unicode text (no lone surrogates)",
                           PASSWORD_HINT)


def find_user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


def create_user(username: str, password: str, role: str) -> User:
    if not USERNAME_RE.fullmatch(username):
        raise AccountError("invalid_username", f"username must match {USERNAME_RE.pattern}")
    _check_role(role)
    _check_password(password)
    if find_user(username):
        raise AccountError("user_exists", f"user {username!r} already exists")
    user = User(username=username, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(username: str, password: str) -> User:
    return update_user(username, password=password)


def set_role(username: str, role: str) -> User:
    return update_user(username, role=role)


def update_user(username: str, *, role: str | None = None,
                password: str | None = None) -> User:
    """Change role and/or password: everything is validated first, then one commit. A new
    password or a lower role ends the user's login sessions (and so their terminals). The
    last admin is never demoted (:func:`_keep_an_admin`)."""
    if role is not None:
        _check_role(role)
    if password is not None:
        _check_password(password)
    with write_transaction():
        user = _get(username)
        demoted = role is not None and ROLES.index(role) < ROLES.index(user.role)
        if demoted and user.role == "admin":
            _keep_an_admin(user, "demote")
        if role is not None:
            user.role = role
        if password is not None:
            user.set_password(password)
            end_sessions(user)
    if demoted or password is not None:
        _close_terminals(user=user.username)
    return user


def remove_user(username: str) -> None:
    """Delete a user and their login sessions; the last admin is never removed."""
    with write_transaction():
        user = _get(username)
        if user.role == "admin":
            _keep_an_admin(user, "remove")
        db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id))
        db.session.delete(user)
    _close_terminals(user=username)


def _keep_an_admin(user: User, verb: str) -> None:
    """Refuse a change that would leave no admin user. Called under the write lock
    (``write_transaction``), so two admins demoting each other at once cannot both pass."""
    others = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.role == "admin", User.id != user.id)) or 0
    if not others:
        raise AccountError(
            "last_admin", f"cannot {verb} {user.username!r}: it is the only admin",
            "Make another user an admin first (an admin API token does not count: it cannot "
            "log in to manage users).", status=409)


def _get(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise AccountError("unknown_user", f"no user {username!r}")
    return user


def last_logins() -> dict[int, float]:
    """When each user last logged in through the login page (their newest login session),
    by user id; a user who never did, or who only comes through an auth proxy, is absent."""
    return dict(db.session.execute(sa.select(
        LoginSession.user_id, sa.func.max(LoginSession.created_at)).group_by(
        LoginSession.user_id)).all())


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


# -- login sessions ---------------------------------------------------------------------

def start_session(user: User, lifetime: float) -> str:
    """A new server-side session that lasts ``lifetime`` seconds; returns the raw key for
    the signed cookie."""
    raw = new_secret()
    db.session.add(LoginSession(key_hash=token_hash(raw), user_id=user.id,
                                expires_at=now() + lifetime))
    db.session.commit()
    return raw


def session_row(raw: str) -> LoginSession | None:
    """The live login session for a raw cookie key."""
    if not raw:
        return None
    row = db.session.scalar(sa.select(LoginSession).where(
        LoginSession.key_hash == token_hash(raw)))
    if row is None or row.revoked_at is not None or row.expires_at <= now():
        return None
    return row


def session_user(raw: str) -> User | None:
    row = session_row(raw)
    return db.session.get(User, row.user_id) if row is not None else None


def end_session(raw: str) -> None:
    """Log out: the session and the terminals opened under it end now."""
    row = db.session.scalar(sa.select(LoginSession).where(
        LoginSession.key_hash == token_hash(raw)))
    db.session.execute(sa.update(LoginSession).where(
        LoginSession.key_hash == token_hash(raw)).values(revoked_at=now()))
    db.session.commit()
    if row is not None:
        _close_terminals(auth_ref=f"session:{row.id}")


def _close_terminals(**which: str) -> None:
    """Tell whatever a login opened (terminals) that its rights ended."""
    for callback in _access_ended:
        callback(**which)


def end_sessions(user: User) -> None:
    db.session.execute(sa.update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now()))


# -- API tokens -------------------------------------------------------------------------

def create_token(name: str, role: str) -> tuple[ApiToken, str]:
    """A new token; the raw value is returned once and never stored."""
    if not USERNAME_RE.fullmatch(name):
        raise AccountError("invalid_name", f"token name must match {USERNAME_RE.pattern}")
    _check_role(role)
    if db.session.scalar(sa.select(ApiToken).where(ApiToken.name == name)):
        raise AccountError("token_exists", f"a token named {name!r} exists")
    raw = new_secret(TOKEN_PREFIX)
    token = ApiToken(name=name, role=role, token_hash=token_hash(raw))
    db.session.add(token)
    db.session.commit()
    return token, raw


def revoke_token(name: str) -> ApiToken:
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise AccountError("unknown_token", f"no token named {name!r}")
    token.revoked_at = token.revoked_at or now()
    db.session.commit()
    _close_terminals(user=f"token:{name}")
    return token


def token_creators() -> dict[str, str]:
    """Who created each token, from the audit trail (``token_add`` entries, written by
    ``POST /api/tokens``); a token made with the CLI, or whose entry retention removed, is
    absent. Token names are never reused (a revoked one keeps its name), so the name is
    enough to find the entry."""
    rows = db.session.execute(sa.select(AuditEntry.output, AuditEntry.actor).where(
        AuditEntry.action == "token_add", AuditEntry.success.is_(True)).order_by(
        AuditEntry.id))
    return {output.split(" (", 1)[0]: actor for output, actor in rows if output}


def token_principal(raw: str) -> ApiToken | None:
    """The live token for a raw value, marking its use at most once a minute."""
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    if token is None or token.revoked_at is not None:
        return None
    at = now()
    if token.last_used_at is None or at - token.last_used_at > 60:
        token.last_used_at = at
        db.session.commit()
    return token
