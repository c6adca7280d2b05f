"""Migrations: a new database starts at the newest revision, and a database from before
migrations (with data in it) is recognised and upgraded in place to exactly the models'
schema, by every entry point, once."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from conftest import build_app
from helpers import ROOT
from pg_cluster import sqlite_only

from recon.db.extensions import db
from recon.db.schema import MIGRATIONS, head_revision


def _round1_statements() -> list[str]:
    spec = importlib.util.spec_from_file_location(
        "round1", MIGRATIONS / "versions" / "0001_round1.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TABLES


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _schema_diff(app) -> list:
    """What autogenerate would still change: empty when the database matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), db.metadata)


@sqlite_only
def test_a_new_database_starts_at_the_newest_revision(tmp_path, target_info):
    app = build_app(tmp_path, [target_info])
    path = tmp_path / "recon.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)]
    assert {"audit", "users", "unit_state", "monitor_event", "held_slots"} <= _tables(path)
    assert _schema_diff(app) == []


@sqlite_only
def test_a_database_from_before_migrations_keeps_its_data_and_is_upgraded(tmp_path,
                                                                           target_info):
    path = tmp_path / "recon.db"
    with sqlite3.connect(path) as conn:
        for statement in _round1_statements():
            conn.execute(statement)
        conn.execute("INSERT INTO users (id, username, password_hash, role, created_at) "
                     "VALUES (1, 'alice', 'scrypt:x', 'admin', '2026-11-20 10:00:00')")
        conn.execute("INSERT INTO audit (id, at, actor, action, service, success) VALUES "
                     "(7, '2026-11-20 10:01:00', 'alice', 'restart', 'demo-web', 1)")
        conn.execute("INSERT INTO terminal_sessions (id, user, host, mode, slot, token_hash, "
                     "status, socket_path, spawner, created_at, last_activity_at, expires_at) "
                     "VALUES ('t1', 'alice', 'demo', 'shell', 0, 'h', 'closed', '/x', 's', "
                     "'2026-11-20', '2026-11-20', '2026-11-20')")
    app = build_app(tmp_path, [target_info])
    # replayed revision by revision, the migrations reach exactly the models' schema
    assert _schema_diff(app) == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
            head_revision()
        assert conn.execute("SELECT username, role FROM users").fetchall() == [
            ("alice", "admin")]
        assert conn.execute("SELECT id, action FROM audit").fetchall() == [(7, "restart")]
        columns = {r[1] for r in conn.execute("PRAGMA table_info(terminal_sessions)")}
        assert "auth_ref" in columns
        assert conn.execute("SELECT id FROM terminal_sessions").fetchall() == [("t1",)]
    assert {"unit_state", "monitor_event", "monitor_lease", "host_state"} <= _tables(path)


def test_two_processes_starting_at_once_migrate_once(tmp_path, target_info):
    (tmp_path / "seed").mkdir()
    app = build_app(tmp_path / "seed", [target_info])
    config = app.config["RECON_CONFIG"]
    uri = f"sqlite:///{tmp_path / 'race.db'}"
    code = ("import sys; from recon import create_app; "
            "create_app({'TESTING': True, 'SECRET_KEY': 'x', 'RECON_CONFIG': sys.argv[1], "
            "'SQLALCHEMY_DATABASE_URI': sys.argv[2]})")
    procs = [subprocess.Popen([sys.executable, "-c", code, config, uri], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    engine = sa.create_engine(uri)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


@sqlite_only
def test_a_database_of_a_build_between_round_one_and_migrations_is_upgraded(tmp_path,
                                                                            target_info):
    """A development build created this round's first tables with create_all() before
    migrations existed: they are kept, the rest is added, and the schema ends up exact."""
    from recon.monitor import models as monitor_models

    path = tmp_path / "recon.db"
    with sqlite3.connect(path) as conn:
        for statement in _round1_statements():
            conn.execute(statement)
    engine = sa.create_engine(f"sqlite:///{path}")
    then = sa.MetaData()  # those tables as that build made them: without what 0008 added
    for model in (monitor_models.UnitState, monitor_models.HostState,
                  monitor_models.MonitorEvent):
        sa.Table(model.__tablename__, then,
                 *[c._copy() for c in model.__table__.columns if c.name != "version"])
    then.create_all(engine)
    engine.dispose()
    app = build_app(tmp_path, [target_info])
    assert _schema_diff(app) == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
            head_revision()


@sqlite_only
def test_the_datetime_columns_become_the_same_instants_in_epoch_seconds_and_back(
        tmp_path, target_info):
    """0006 turns the text SQLite kept for DateTime columns into epoch seconds, exactly, keeps
    every row (login sessions too: rebuilding ``users`` must not cascade), and its downgrade
    writes the text back."""
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade

    app = build_app(tmp_path, [target_info])
    path = tmp_path / "recon.db"
    with app.app_context():
        downgrade(directory=str(MIGRATIONS), revision="0005_rolling_settle")
        db.session.remove()
    texts = {  # (table, key column, key, time column): the text a 0005 build wrote
        ("users", "id", 100, "created_at"): "2026-11-20 10:00:00.123456",
        ("login_sessions", "id", 5, "created_at"): "2026-11-20 10:00:00.123456",
        ("login_sessions", "id", 5, "expires_at"): "2099-11-20 22:00:00.999999",
        ("api_tokens", "id", 9, "created_at"): "2026-11-20 10:00:00",
        ("api_tokens", "id", 9, "last_used_at"): "2026-11-20 10:05:00.500000",
        ("login_failures", "key", "addr:1.2.3.4", "last_at"): "2026-11-20 10:00:00.000001",
        ("audit", "id", 7, "at"): "2026-11-20 10:01:00.000000",
        ("terminal_sessions", "id", "t1", "created_at"): "2026-11-20",
        ("terminal_sessions", "id", "t1", "closed_at"): "2026-11-20 23:59:59.999999",
        ("held_slots", "id", 3, "created_at"): "2026-11-20 10:00:00.250000",
    }
    t = {(table, col): text for (table, _, _, col), text in texts.items()}
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO users (id, username, password_hash, role, created_at) "
                     "VALUES (100, 'olga', 'scrypt:x', 'admin', ?)", (t["users", "created_at"],))
        conn.execute("INSERT INTO login_sessions (id, key_hash, user_id, created_at, expires_at)"
                     " VALUES (5, ?, 100, ?, ?)",
                     ("k" * 64, t["login_sessions", "created_at"],
                      t["login_sessions", "expires_at"]))
        conn.execute("INSERT INTO api_tokens (id, name, token_hash, role, created_at, "
                     "last_used_at) VALUES (9, 'old', 'h', 'viewer', ?, ?)",
                     (t["api_tokens", "created_at"], t["api_tokens", "last_used_at"]))
        conn.execute("INSERT INTO login_failures (key, count, last_at) VALUES "
                     "('addr:1.2.3.4', 3, ?)", (t["login_failures", "last_at"],))
        conn.execute("INSERT INTO audit (id, at, actor, action, success) VALUES "
                     "(7, ?, 'olga', 'restart', 1)", (t["audit", "at"],))
        conn.execute("INSERT INTO terminal_sessions (id, user, host, mode, slot, token_hash, "
                     "status, socket_path, spawner, created_at, last_activity_at, expires_at, "
                     "closed_at) VALUES ('t1', 'olga', 'demo', 'shell', 0, 'h', 'closed', '/x', "
                     "'s', ?, ?, ?, ?)", (t["terminal_sessions", "created_at"],) * 3
                     + (t["terminal_sessions", "closed_at"],))
        conn.execute("INSERT INTO held_slots (id, kind, user, owner, created_at) VALUES "
                     "(3, 'log', 'olga', '1:1', ?)", (t["held_slots", "created_at"],))

    def stored() -> dict:
        with sqlite3.connect(path) as conn:
            rows = {key: conn.execute(f"SELECT {key[3]} FROM {key[0]} WHERE {key[1]} = ?",
                                      (key[2],)).fetchone() for key in texts}
        return {key: row[0] if row else "row gone" for key, row in rows.items()}

    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        db.session.remove()
    assert _schema_diff(app) == []
    assert stored() == {key: datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
                        for key, text in texts.items()}
    assert all(type(v) is float for v in stored().values())
    with app.app_context():  # the login session survived the rebuild of users
        assert db.session.scalar(sa.text("SELECT user_id FROM login_sessions WHERE id = 5")) \
            == 100
    admin = app.test_client()
    token = {"Authorization": f"Bearer {app.config['TEST_TOKENS']['admin']}"}
    audit = admin.get("/api/audit?since=2026-11-20T10:01:00Z", headers=token).get_json()
    assert [(e["id"], e["at"]) for e in audit["entries"]] == [(7, "2026-11-20T10:01:00+00:00")]
    users = admin.get("/api/users", headers=token).get_json()["users"]
    # last_login_at: her login session, migrated to epoch seconds with the rest.
    assert {"username": "olga", "role": "admin", "created_at": "2026-11-20T10:00:00.123456+00:00",
            "last_login_at": "2026-11-20T10:00:00.123456+00:00"} in users

    with app.app_context():
        downgrade(directory=str(MIGRATIONS), revision="0005_rolling_settle")
        db.session.remove()
    assert stored() == {key: datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S.%f")
                        for key, text in texts.items()}
