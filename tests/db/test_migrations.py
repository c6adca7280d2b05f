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


def test_a_new_database_starts_at_the_newest_revision(tmp_path, target_info):
    app = build_app(tmp_path, [target_info])
    path = tmp_path / "recon.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)]
    assert {"audit", "users", "unit_state", "monitor_event", "held_slots"} <= _tables(path)
    assert _schema_diff(app) == []


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
    for model in (monitor_models.UnitState, monitor_models.HostState,
                  monitor_models.MonitorEvent):
        model.__table__.create(engine)
    engine.dispose()
    app = build_app(tmp_path, [target_info])
    assert _schema_diff(app) == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
            head_revision()
