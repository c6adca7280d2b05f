"""Write transactions that wait their turn instead of failing, on SQLite and PostgreSQL.

SQLite allows one writer at a time: a deferred transaction that reads and then writes fails at
once ("database is locked") when another process wrote in between; taking the write lock
first makes it wait for its turn (the busy timeout) instead.

PostgreSQL lets writers run side by side; RECON's read-then-write transactions (leases,
holds, the snapshot's version, notifications) were written for one writer at a time, so
there they take one transaction-level advisory lock first: the same order, the same
guarantees, and ``lock_timeout`` (``database_busy_seconds``) bounds the wait as SQLite's
busy timeout does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from recon.db.extensions import db

# The advisory lock every write transaction takes on PostgreSQL (any fixed number; RECON's).
WRITE_LOCK = 0x5EC0
# The one a schema migration takes (held across its transactions).
MIGRATION_LOCK = 0x5EC1


def upsert(model):
    """``INSERT ... ON CONFLICT`` for the session's database (SQLite or PostgreSQL: the
    same ``on_conflict_do_update`` either way)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


@contextmanager
def write_transaction() -> Iterator[Session]:
    """A transaction that holds SQLite's write lock from its start (``BEGIN IMMEDIATE``).

    A deferred transaction that reads and then writes fails at once when another process
    wrote in between; taking the lock first makes it wait (busy timeout) instead.
    """
    session = db.session
    session.commit()  # end whatever read transaction the caller had open
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
