"""The database schema, kept current by Alembic migrations (Flask-Migrate).

Every entry point (gunicorn workers, the flask CLI, tests) builds the app through the factory,
which brings the database to the newest revision before anything uses it: a new database is
created from the models and stamped, an older one is upgraded revision by revision. Two workers
starting at once take turns on a lock file next to the database, so a migration runs once.
A database made by RECON before migrations existed (its tables, no ``alembic_version``) is
recognised and stamped as the first revision, then upgraded like any other.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import stamp, upgrade

from recon.db.extensions import db
from recon.db.instance import sqlite_path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_round1"  # the schema RECON had before migrations (it created all tables)
_heads: dict[str, str] = {}


def head_revision() -> str:
    """The newest revision in ``recon/migrations`` (read once per process)."""
    if "head" not in _heads:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        _heads["head"] = ScriptDirectory.from_config(config).get_current_head()
    return _heads["head"]


def current_revision() -> str | None:
    """The database's revision (None: no ``alembic_version`` table, or empty)."""
    inspector = sa.inspect(db.engine)
    if not inspector.has_table("alembic_version"):
        return None
    return db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _migration_lock(app: Flask) -> Iterator[None]:
    """One migration at a time: a lock file beside a SQLite database (or in the instance
    folder); on PostgreSQL, whose replicas may run on other machines, an advisory lock held
    on its own connection for the whole migration."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        from recon.db.transactions import MIGRATION_LOCK
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
                conn.commit()
        return
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    lock_path = (database.parent if database else Path(app.instance_path)) / ".migrate.lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_schema(app: Flask) -> str | None:
    """Upgrade the database to the newest revision if it is behind; returns what it did."""
    with app.app_context():
        if current_revision() == head_revision():
            db.session.remove()
            return None
        db.session.remove()
        with _migration_lock(app):
            current = current_revision()
            if current == head_revision():
                return None
            if current is None and not sa.inspect(db.engine).has_table("audit"):
                # A new database: the models' tables at once, marked as the newest revision
                # (Alembic's advice; replaying every migration gives the same, slower).
                db.create_all()
                stamp(directory=str(MIGRATIONS), revision="head")
                db.session.remove()
                return f"database created at {head_revision()}"
            if current is None:
                stamp(directory=str(MIGRATIONS), revision=BASELINE)
                current = BASELINE
            upgrade(directory=str(MIGRATIONS))
            db.session.remove()
            return f"database upgraded from {current or 'empty'} to {head_revision()}"
