"""Routes of "as yourself": a terminal's login and rights, and the per-user terminal keys.

| route | who |
|---|---|
| ``GET /api/terminals/<id>/identity`` | the owner: the login the shell runs as |
| ``GET /api/terminals/<id>/identity/sudo`` | the owner: + ``id -Gn``, ``sudo -n -l`` (once) |
| ``GET /api/users/<name>/terminal-key`` | an admin, or that user: the public line to install |
| ``POST /api/users/<name>/terminal-key`` | admin: make the key if there is none |
| ``POST /api/users/<name>/terminal-key/rotate`` | admin: a new key in place of the old |
| ``DELETE /api/users/<name>/terminal-key`` | admin: delete it |
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from recon.audit import store as audit
from recon.auth.accounts import find_user
from recon.core.errors import ApiError, NotFound
from recon.terminals import identity, manager, proxy, userkeys
from recon.web.context import runtime
from recon.web.policy import ROLES, current_user, require_role

bp = Blueprint("terminal_identity", __name__)


@bp.get("/api/terminals/<session_id>/identity")
@require_role("operator")
def session_identity(session_id: str):
    """Who the caller's terminal is on its host (no host work: stored when it opened)."""
    sess = proxy.owned_session(session_id, live=False)
    return jsonify(identity.describe(identity.get(sess.id), sess.host))


@bp.get("/api/terminals/<session_id>/identity/sudo")
@require_role("operator")
def session_rights(session_id: str):
    """+ what that login may do: ``sudo -n -l`` and its groups, asked once per session."""
    sess = proxy.owned_session(session_id)
    row = identity.get(sess.id)
    host = runtime().config.hosts.get(sess.host)
    if row is None or host is None:
        raise ApiError(409, "terminal_identity_unknown",
                       "this terminal's login is not known (opened before RECON recorded it, "
                       "or its host left the config)", "Open a new terminal.")
    identity.probe(runtime().executor.host_keys, host, row)
    return jsonify(identity.describe(identity.get(sess.id), sess.host))


def _user(name: str):
    user = find_user(name)
    if user is None:
        raise NotFound("user", f"no user {name!r}", "GET /api/users lists the users.")
    return user


@bp.get("/api/users/<username>/terminal-key")
@require_role("operator")
def show_key(username: str):
    """The public line of the user's terminal key (public: an operator may read their own)."""
    me = current_user()
    if me.username != username and not me.can("admin"):
        raise ApiError(403, "forbidden", "only admins read other users' terminal keys",
                       "Ask an admin.")
    line = userkeys.existing(_user(username).username)
    if line is None:
        raise NotFound("terminal_key", f"RECON holds no terminal key for {username}",
                       f"An admin makes it: POST /api/users/{username}/terminal-key.")
    return jsonify({"user": username, "public_key": line})


@bp.post("/api/users/<username>/terminal-key")
@require_role("admin")
def make_key(username: str):
    user = _user(username)
    if ROLES.index(user.role) < ROLES.index("operator"):
        raise ApiError(409, "role_too_low", f"{username} is a {user.role}: only operators "
                       "and admins open terminals", f"Make {username} an operator first.")
    line, created = userkeys.ensure(user.username)
    if created:
        audit.record("terminal_key.create", success=True, output=f"{username}: {line}")
    return jsonify({"user": username, "public_key": line, "created": created}), \
        201 if created else 200


@bp.post("/api/users/<username>/terminal-key/rotate")
@require_role("admin")
def rotate_key(username: str):
    user = _user(username)
    if userkeys.existing(user.username) is None:
        raise NotFound("terminal_key", f"RECON holds no terminal key for {username}",
                       f"Make one: POST /api/users/{username}/terminal-key.")
    line = userkeys.rotate(user.username)
    audit.record("terminal_key.rotate", success=True, output=f"{username}: {line}")
    return jsonify({"user": username, "public_key": line, "rotated": True})


@bp.delete("/api/users/<username>/terminal-key")
@require_role("admin")
def delete_key(username: str):
    deleted = userkeys.revoke(username)
    if not deleted:
        raise NotFound("terminal_key", f"RECON holds no terminal key for {username}",
                       "Nothing to delete.")
    audit.record("terminal_key.delete", success=True, output=username)
    # Open terminals keep their ssh session; close them so the key's removal is felt now.
    closed = sum(manager.close(sid, "revoked") for sid in identity.open_on_user_key(username))
    return jsonify({"user": username, "deleted": True, "terminals_closed": closed})
