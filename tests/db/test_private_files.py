"""Secrets at rest (issue 12): the database and its -wal/-shm are 0600, and a looser existing
database is named in a warning with the chmod that fixes it."""

from __future__ import annotations

import logging
import stat

from conftest import build_app, client_for
from pg_cluster import sqlite_only

from recon.web.context import runtime

pytestmark = sqlite_only


def test_database_and_its_wal_are_private(tmp_path, target_info):
    app = build_app(tmp_path, [target_info])
    client_for(app).get("/api/audit")  # a write and a read: -wal and -shm exist now
    for name in ("recon.db", "recon.db-wal", "recon.db-shm"):
        path = tmp_path / name
        assert path.exists(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    runtime(app).executor.close_all()


def test_a_looser_existing_database_is_named_in_a_warning(tmp_path, target_info, caplog):
    db = tmp_path / "recon.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="recon.db.instance")
    app = build_app(tmp_path, [target_info])
    assert any(str(db) in r.getMessage() and "chmod 0600" in r.getMessage()
               for r in caplog.records), caplog.text
    runtime(app).executor.close_all()
