"""The per-user terminal keys RECON makes and holds: ``instance/user-keys/<user>/id_ed25519``.

A RECON user mapped to a host login (``recon.config.terminal_users``, ``key = "user"``, the
default) logs in with a key of their own, so removing that one user's access is deleting one
file -- not editing the dashboard key out of every host. The private key never leaves RECON
(folder 0700, file 0600, written with ``O_EXCL``); the public line is shown for the login's
``authorized_keys``. Rotating replaces it (the new public line must then be installed); the
key is deleted when the user is removed or falls below operator.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_ssh_private_key,
)
from flask import current_app

from recon.auth.accounts import find_user, on_access_ended
from recon.core.errors import NotFound
from recon.web.context import runtime
from recon.web.policy import ROLES

log = logging.getLogger("recon.terminals")
KEY_NAME = "id_ed25519"
# As recon.auth.accounts.USERNAME_RE: never "/" or a leading ".", so a name is one folder.
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def keys_dir(instance_path: str | None = None) -> Path:
    """``settings.terminal_keys_dir``, by default ``instance/user-keys`` (0700)."""
    configured = runtime().config.settings.terminal_keys_dir
    base = Path(configured) if configured else Path(
        instance_path or current_app.instance_path) / "user-keys"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    return base


def key_path(user: str, instance_path: str | None = None) -> Path:
    """Where ``user``'s private key is (whether or not it exists yet)."""
    if not _SAFE.fullmatch(user):
        raise NotFound("user", f"no RECON user {user!r} can hold a terminal key",
                       "Use a RECON username (letters, digits, _.@-).")
    return keys_dir(instance_path) / user / KEY_NAME


def public_line(path: Path, user: str) -> str:
    """The ``authorized_keys`` line of the key at ``path``, commented with its owner."""
    key = load_ssh_private_key(path.read_bytes(), password=None)
    public = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    return f"{public} recon-terminal:{user}@{socket.gethostname()}"


def existing(user: str) -> str | None:
    """``user``'s public line, or None when RECON holds no key for them."""
    path = key_path(user)
    return public_line(path, user) if path.is_file() else None


def ensure(user: str) -> tuple[str, bool]:
    """``user``'s public line, making the key first if there is none: (line, created)."""
    path = key_path(user)
    if path.is_file():
        return public_line(path, user), False
    _write(path)
    return public_line(path, user), True


def rotate(user: str) -> str:
    """A new key for ``user`` in place of the old one (written beside it, then renamed, so a
    terminal opening meanwhile reads either whole key); returns the new public line."""
    path = key_path(user)
    fresh = path.with_name(KEY_NAME + ".new")
    fresh.unlink(missing_ok=True)
    _write(fresh)
    os.replace(fresh, path)
    log.info("terminal key of %s rotated", user)
    return public_line(path, user)


def revoke(user: str, instance_path: str | None = None) -> bool:
    """Delete ``user``'s key; False if there was none."""
    folder = key_path(user, instance_path).parent
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    log.info("terminal key of %s deleted", user)
    return True


def _write(path: Path) -> None:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path.parent, 0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.OpenSSH,
                                                     NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


@on_access_ended
def revoke_for(*, user: str | None = None, auth_ref: str | None = None,
               reason: str = "revoked") -> None:
    """Rights of ``user`` ended (removed, demoted, password changed): a user who is gone or
    below operator may open no terminal, so their key goes (a password change keeps it)."""
    if user is None or not _SAFE.fullmatch(user):
        return
    row = find_user(user)
    if row is None or ROLES.index(row.role) < ROLES.index("operator"):
        revoke(user)
