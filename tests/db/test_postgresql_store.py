"""RECON on PostgreSQL (issue 25): the store does what it does on SQLite -- a database made
from empty and migrated down and up again, write transactions that take turns (no lost
update between processes), host leases never held twice, the login throttle's claim under
concurrency, the terminal counter's upsert, a lock held too long answered 503, and the
whole app against a real systemd host (monitor, fleet call, an audited action).

Every migration runs on PostgreSQL too, from empty, down and up.

A real server: Debian's postgresql, a throwaway cluster made for the run
(tests/support/pg_cluster.py). ``make test-pg`` runs the whole suite on it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pg_cluster
import pytest
import sqlalchemy as sa
from conftest import client_for
from flask_migrate import downgrade, upgrade

from recon import create_app
from recon.db.extensions import db
from recon.db.schema import MIGRATIONS, current_revision, head_revision
from recon.db.transactions import write_transaction
from recon.monitor import sharing

pytestmark = [pytest.mark.host, pytest.mark.skipif(pg_cluster.unavailable_reason() is not None,
                                                     reason=str(pg_cluster.unavailable_reason()))]


@pytest.fixture
def pg_app(tmp_path: Path):
    with pg_cluster.empty_app(tmp_path) as app:
        yield app


def test_a_new_database_is_made_at_head_and_every_revision_migrates_down_and_up(pg_app):
    """From head down to empty and up again, one revision at a time: every step runs on
    PostgreSQL, and the schema the chain builds is the models' (what a new database gets)."""
    from alembic.script import ScriptDirectory
    from test_migrations import _schema_diff

    with pg_app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert current_revision() == head_revision()
        assert _schema_diff(pg_app) == []
        chain = [r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()]
        for below in [*chain[1:], "base"]:
            downgrade(directory=str(MIGRATIONS), revision=below)
            assert current_revision() == (None if below == "base" else below)
        for rev in reversed(chain):
            upgrade(directory=str(MIGRATIONS), revision=rev)
            assert current_revision() == rev
        assert _schema_diff(pg_app) == []
        db.session.remove()


def test_write_transactions_take_turns_so_no_update_is_lost(pg_app):
    with pg_app.app_context():
        db.session.execute(sa.text("CREATE TABLE tally (n integer NOT NULL)"))
        db.session.execute(sa.text("INSERT INTO tally VALUES (0)"))
        db.session.commit()

    def bump(_: int) -> None:
        with pg_app.app_context():
            for _ in range(50):
                with write_transaction() as session:  # read, then write: a race without turns
                    n = session.execute(sa.text("SELECT n FROM tally")).scalar_one()
                    session.execute(sa.text("UPDATE tally SET n = :n"), {"n": n + 1})
            db.session.remove()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(8)))
    with pg_app.app_context():
        assert db.session.execute(sa.text("SELECT n FROM tally")).scalar_one() == 400


def test_a_host_lease_is_never_held_twice(pg_app):
    hosts = [f"h{i}" for i in range(60)]
    held: dict[str, set[str]] = {}

    def claim(owner: str) -> None:
        with pg_app.app_context():
            held[owner] = sharing.sync_leases(owner, hosts, {}, {})[0]
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(f"p{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [h for hs in held.values() for h in hs]
    assert sorted(taken) == sorted(hosts)  # each host once, by exactly one owner


def test_simultaneous_guesses_are_claimed_no_more_than_one_by_one(pg_app):
    from recon.auth import throttle

    def guess(_: int) -> bool:
        with pg_app.app_context():
            try:
                return throttle.claim("ada", "10.0.0.9")
            finally:
                db.session.remove()

    with ThreadPoolExecutor(16) as pool:
        claimed = sum(pool.map(guess, range(32)))
    assert claimed == throttle.FREE_FAILURES + 1  # then the pair waits


def test_the_terminal_counter_upserts(pg_app):
    from recon.terminals.models import TerminalCounter, bump

    with pg_app.app_context():
        for _ in range(3):
            bump("opened")
        db.session.commit()
        assert db.session.get(TerminalCounter, "opened").value == 3


def test_a_lock_held_past_the_busy_time_is_a_503_and_changes_nothing(tmp_path):
    config = tmp_path / "recon.toml"
    config.write_text("[settings]\ndatabase_busy_seconds = 1\n")
    uri = pg_cluster.database_uri()
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": uri})
    from recon.auth.accounts import create_token
    with app.app_context():
        token = create_token("t", "admin")[1]
    holder = sa.create_engine(uri)
    with holder.connect() as conn:  # another process holds the table (a long migration...)
        conn.exec_driver_sql("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        client = app.test_client()
        resp = client.post("/api/users", json={"username": "bob", "password": "x" * 16,
                                               "role": "viewer"},
                           headers={"Authorization": f"Bearer {token}"})
        conn.rollback()
    holder.dispose()
    assert resp.status_code == 503 and resp.json["error"] == "database_busy", resp.json
    with app.app_context():
        from recon.auth.models import User
        assert db.session.scalar(sa.select(User).where(User.username == "bob")) is None
        db.engine.dispose()


def test_the_app_on_postgresql_watches_a_real_host_and_audits_an_action(monkeypatch, make_app,
                                                                         target_info):
    monkeypatch.setenv("RECON_TEST_DATABASE", "postgresql")
    app = make_app([target_info])
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    client = client_for(app, "operator")
    body = client.get("/api/services").json
    assert {s["slug"]: s["state"] for s in body["services"]}["demo-worker"] == "active"
    for action, state in (("stop", "inactive"), ("start", "active")):
        done = client.post(f"/api/services/demo-worker/{action}")
        assert done.status_code == 200 and done.json["success"], done.json
        assert client.get("/api/services/demo-worker/status").json["state"] == state
    audit = client_for(app, "admin").get("/api/audit?service=demo-worker").json["entries"]
    assert [e["action"] for e in audit[:2]] == ["start", "stop"]
