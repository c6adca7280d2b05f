"""The instance folder holds secrets at rest: the database (and its -wal/-shm), the session
secret, the dashboard's private key. The folder is created 0700 and the database file 0600
before SQLite opens it (SQLite gives -wal and -shm the database file's mode). Files that
already exist with looser modes are not changed behind the operator's back: each is named in
a warning at start, with the chmod that fixes it."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger("recon.db.instance")
SECRET_FILES = ("recon.db", "recon.db-wal", "recon.db-shm", "secret_key", "id_ed25519",
                "known_hosts")


class StartupError(Exception):
    """RECON cannot start; ``messages`` say why, each with its fix (no traceback needed)."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("RECON cannot start:\n" + "\n".join(f"  - {m}" for m in messages))


def sqlite_path(uri: str) -> Path | None:
    """The file behind a ``sqlite:///PATH`` URI (None for memory or other databases)."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri == prefix or ":memory:" in uri:
        return None
    return Path(uri[len(prefix):].split("?", 1)[0])


def prepare(instance: Path, database_uri: str) -> None:
    """Create the folder (0700) and the database file (0600) if missing."""
    try:
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not any((instance / name).exists() for name in SECRET_FILES):
            # A fresh checkout's instance/ (0755 from git) holds no secret yet: RECON makes
            # it its own before writing any. Folders with secrets are only warned about.
            instance.chmod(0o700)
        if not os.access(instance, os.W_OK | os.X_OK):
            raise PermissionError(f"no write access to {instance}")
        db = sqlite_path(database_uri)
        if db is not None and not db.exists() and db.parent.is_dir():
            try:
                os.close(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
    except OSError as exc:
        raise StartupError([f"the instance folder {instance} is not usable ({exc}); make it "
                            "writable by RECON's user (mode 0700)"]) from None


def loose_files(instance: Path, database_uri: str) -> list[str]:
    """Warnings for the instance folder and secret files readable by group or others."""
    out = []
    candidates = [(instance, 0o700)] + [(instance / n, 0o600) for n in SECRET_FILES]
    db = sqlite_path(database_uri)
    if db is not None and db.parent != instance:
        candidates += [(Path(f"{db}{s}"), 0o600) for s in ("", "-wal", "-shm")]
    for path, wanted in candidates:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            out.append(f"{path} is mode {mode:04o}, readable by other users: "
                       f"chmod {wanted:04o} {path}")
    return out


def warn_loose(instance: Path, database_uri: str) -> list[str]:
    warnings = loose_files(instance, database_uri)
    for line in warnings:
        log.warning("insecure instance file: %s", line)
    return warnings


def secret_key(instance: Path) -> str:
    """The session secret: a per-install random key kept in the instance folder (0600)."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
