"""Write transactions that wait their turn instead of failing.

SQLite allows one writer at a time: a deferred transaction that reads and then writes fails at
once ("database is locked") when another process wrote in between; taking the write lock
first makes it wait for its turn (the busy timeout) instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from recon.db.extensions import db


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
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
