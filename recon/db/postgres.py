"""PostgreSQL connections tuned for a dashboard's reads: few round trips per request.

On SQLite a query is a function call; on PostgreSQL each is a round trip to the server, and
the driver adds its own: ``BEGIN`` before a transaction's first query, ``ROLLBACK`` when the
connection goes back to the pool, and SQLAlchemy's pre-ping before every checkout. A fleet
read paid seven round trips for three queries. Here:

- a GET (or HEAD) request reads in autocommit: no ``BEGIN``, no ``ROLLBACK``. Nothing is
  lost by it: PostgreSQL's default isolation (read committed) gives every statement its own
  snapshot inside a transaction too. Writes still go through
  :func:`recon.db.transactions.write_transaction`, which ends the request's read first and
  so writes in a transaction of its own, whatever the request's method;
- a connection is pinged only when it sat unused in the pool for a while (a server restart
  or an idle-connection timeout is found then, and the pool replaces the connection
  instead of failing the request); one in steady use is not.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Flask, request
from sqlalchemy import exc

from recon.db.extensions import db

# A pooled connection unused this long is pinged before it is handed out again.
PING_AFTER_IDLE_SECONDS = 2.0
READ_METHODS = ("GET", "HEAD")


def init_app(app: Flask) -> None:
    """Install both on ``app``'s engine when it runs on PostgreSQL. Called before any other
    ``before_request`` is registered: the autocommit read must start the request's first
    transaction, before authentication queries."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    with app.app_context():
        ping_when_idle(db.engine, PING_AFTER_IDLE_SECONDS)
    app.before_request(_read_in_autocommit)


def _read_in_autocommit() -> None:
    if request.method in READ_METHODS and request.endpoint != "static":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Ping a connection at checkout only if it was idle in the pool ``idle_seconds`` or
    more; a failed ping makes the pool connect afresh (SQLAlchemy's disconnect handling)."""

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi, record, _proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            # in autocommit, so the ping leaves no transaction open behind it
            autocommit = dbapi.autocommit
            dbapi.autocommit = True
            try:
                dbapi.execute("SELECT 1")
            finally:
                dbapi.autocommit = autocommit
        except Exception as error:
            raise exc.DisconnectionError(f"stale connection: {error}") from error
