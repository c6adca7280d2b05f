"""A locked SQLite database: an action is refused at once with 503 database_busy and nothing
runs; an action that ran while it was locked answers its real outcome and its audit entry is
completed once the database is free."""

from __future__ import annotations

import threading
import time

from conftest import client_for
from helpers import wait_for
from pg_cluster import sqlite_only

from recon.db.extensions import db

pytestmark = sqlite_only


def test_a_locked_database_answers_503_fast_and_an_action_that_ran_keeps_its_audit(
        make_app, target_info, monkeypatch):
    import sqlite3

    from recon.audit import store as audit

    monkeypatch.setenv("RECON_DATABASE_BUSY_SECONDS", "0.3")
    monkeypatch.setattr(audit, "FINISH_RETRY_SECONDS", 0.5)
    app = make_app([target_info], command_timeout=2)
    client = client_for(app)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    locker = sqlite3.connect(path, timeout=1, isolation_level=None)
    # Locked before the action: refused at once, clearly, and nothing runs.
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        resp = client.post("/api/services/demo-web/restart")
        assert time.monotonic() - started < 2.0  # bound: the 0.3 s busy wait, not 15 s
        assert resp.status_code == 503 and resp.get_json()["error"] == "database_busy"
        assert "Nothing was changed" in resp.get_json()["hint"]
    finally:
        locker.execute("ROLLBACK")
    # Locked while the action runs (a reload that hangs until command_timeout): the answer is
    # the action's real outcome, and its audit entry is completed once the database is free.
    result: dict = {}
    t = threading.Thread(target=lambda: result.setdefault(
        "resp", client_for(app).post("/api/services/demo-stuck/reload")))
    t.start()
    assert wait_for(lambda: _pending(app, "reload", "demo-stuck"), timeout=5)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        t.join(30)
    finally:
        locker.execute("ROLLBACK")
    body = result["resp"].get_json()
    assert result["resp"].status_code == 504 and body["error"] == "timeout", body
    assert body["audit"] == "deferred"
    assert wait_for(lambda: _last(app, "reload", "demo-stuck").error == "timeout", timeout=20)


def _pending(app, action: str, service: str) -> bool:
    entry = _last(app, action, service)
    return entry is not None and entry.success is None


def _last(app, action: str, service: str):
    from recon.audit.models import AuditEntry
    with app.app_context():
        return db.session.scalars(db.select(AuditEntry).filter_by(
            action=action, service=service).order_by(AuditEntry.id.desc())).first()
