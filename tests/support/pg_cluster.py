"""A throwaway PostgreSQL server for the run: Debian's postgresql binaries, a cluster made
by ``initdb`` in a temporary folder (owned by ``postgres``, as initdb requires when run as
root), listening on a loopback port only, fsync off; stopped when the run ends. No Docker,
no system service.

``database_uri()`` makes a new empty database on it and returns its SQLAlchemy URI;
``RECON_TEST_DATABASE=postgresql`` makes every test app use one (``make test-pg``).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

PG_USER = "recon"
_lock = threading.Lock()
_cluster: dict[str, object] = {}


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (None when not installed)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    if pg_bin() is None:
        return "PostgreSQL is not installed (apt-get install postgresql; make test does it)"
    if os.geteuid() != 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no postgres user"
    return None


def wanted() -> bool:
    """Whether the run's test apps use PostgreSQL instead of SQLite."""
    return os.environ.get("RECON_TEST_DATABASE", "").lower() == "postgresql"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(argv: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")

        def drop() -> None:
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        kw["preexec_fn"] = drop
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def start() -> tuple[int, Path]:
    """Start the run's cluster once; (port, folder)."""
    with _lock:
        if "port" in _cluster:
            return _cluster["port"], _cluster["dir"]  # type: ignore[return-value]
        binary = pg_bin()
        assert binary is not None, unavailable_reason()
        folder = Path(tempfile.mkdtemp(prefix="recon-pg-"))
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(folder, pw.pw_uid, pw.pw_gid)
        data = folder / "data"
        _as_postgres([str(binary / "initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER,
                      "--no-sync"])
        port = _free_port()
        options = (f"-k {folder} -p {port} -h 127.0.0.1 -c fsync=off -c "
                   "synchronous_commit=off -c full_page_writes=off -c max_connections=400")
        _as_postgres([str(binary / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                      str(folder / "server.log"), "start"])
        _cluster.update(port=port, dir=folder, bin=binary)
        atexit.register(stop)
        return port, folder


def stop() -> None:
    """Stop the cluster and remove its folder (also at exit)."""
    with _lock:
        if "port" not in _cluster:
            return
        folder: Path = _cluster["dir"]  # type: ignore[assignment]
        binary: Path = _cluster["bin"]  # type: ignore[assignment]
        try:
            _as_postgres([str(binary / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate",
                          "-w", "stop"])
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(folder, ignore_errors=True)
        _cluster.clear()


def database_uri(name: str | None = None) -> str:
    """A new, empty database on the run's cluster: its SQLAlchemy URI (psycopg 3)."""
    port, _ = start()
    name = name or f"t{uuid.uuid4().hex[:12]}"
    import psycopg
    with psycopg.connect(f"host=127.0.0.1 port={port} user={PG_USER} dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/{name}"


def app_database_uri(folder: Path) -> str:
    """The database URI of a test app: a new PostgreSQL database when the run asks for it
    (``RECON_TEST_DATABASE=postgresql``), else SQLite in ``folder``."""
    return database_uri() if wanted() else f"sqlite:///{folder / 'recon.db'}"


@contextmanager
def empty_app(tmp_path: Path) -> Iterator[Flask]:
    """An app with no hosts on a new database of the run's cluster (no monitor, nothing
    connects); its pool is closed afterwards."""
    from recon import create_app
    from recon.db.extensions import db

    config = tmp_path / "recon.toml"
    config.write_text("")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": database_uri()})
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


# A test of SQLite itself (its file, its lock, its history of schemas): under
# `make test-pg` every test app is on PostgreSQL, where tests/db/test_postgresql_*.py prove
# the same promises.
sqlite_only = pytest.mark.skipif(wanted(), reason="SQLite's own behaviour; PostgreSQL's is "
                                 "proved in tests/db/test_postgresql_*.py")
