"""PostgreSQL connections (recon/db/postgres.py) on a real server: a GET reads without a
transaction round trip, a write inside it is still one transaction, and a connection the
server dropped is replaced instead of failing the request once it sat idle in the pool --
and the pool recovers by itself when it did not."""

from __future__ import annotations

import time
from pathlib import Path

import pg_cluster
import pytest
import sqlalchemy as sa
from psycopg.pq import TransactionStatus

from recon.auth.accounts import create_token
from recon.db import postgres
from recon.db.extensions import db
from recon.db.transactions import write_transaction

pytestmark = [pytest.mark.host, pytest.mark.skipif(pg_cluster.unavailable_reason() is not None,
                                                     reason=str(pg_cluster.unavailable_reason()))]


@pytest.fixture
def pg_app(tmp_path: Path):
    with pg_cluster.empty_app(tmp_path) as app:
        with app.app_context():
            app.config["TOKEN"] = create_token("reader", "viewer")[1]
        yield app


def test_a_get_reads_in_autocommit_and_a_post_in_a_transaction(pg_app):
    client = pg_app.test_client()  # the token's first use is a write: done before
    assert client.get("/api/services", headers={
        "Authorization": f"Bearer {pg_app.config['TOKEN']}"}).status_code == 200
    with pg_app.test_request_context("/api/services", headers={
            "Authorization": f"Bearer {pg_app.config['TOKEN']}"}):
        pg_app.preprocess_request()
        db.session.execute(sa.text("SELECT 1"))
        conn = db.session.connection().connection.dbapi_connection
        assert conn.info.transaction_status == TransactionStatus.IDLE  # no BEGIN was sent
        db.session.remove()
    with pg_app.test_request_context("/api/services", method="POST"):
        db.session.execute(sa.text("SELECT 1"))
        conn = db.session.connection().connection.dbapi_connection
        assert conn.info.transaction_status == TransactionStatus.INTRANS
        db.session.remove()


def test_a_write_inside_a_get_is_still_one_transaction(pg_app):
    with pg_app.app_context():
        db.session.execute(sa.text("CREATE TABLE pair (n integer NOT NULL)"))
        db.session.commit()
    with pg_app.test_request_context("/api/services", headers={
            "Authorization": f"Bearer {pg_app.config['TOKEN']}"}):
        pg_app.preprocess_request()
        with pytest.raises(RuntimeError), write_transaction() as session:
            session.execute(sa.text("INSERT INTO pair VALUES (1)"))
            raise RuntimeError("the second half failed")
        assert db.session.scalar(sa.text("SELECT count(*) FROM pair")) == 0
        with write_transaction() as session:
            session.execute(sa.text("INSERT INTO pair VALUES (1)"))
            session.execute(sa.text("INSERT INTO pair VALUES (2)"))
        assert db.session.scalar(sa.text("SELECT count(*) FROM pair")) == 2
        db.session.remove()


def _drop_connections(app) -> int:
    """Terminate, server-side, every connection of the app's database but this one."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.NullPool)
    try:
        with engine.connect() as c:
            return len(c.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    finally:
        engine.dispose()


def test_a_connection_the_server_dropped_is_replaced_after_idling(pg_app):
    client = pg_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {pg_app.config['TOKEN']}"
    assert client.get("/api/services").status_code == 200
    assert _drop_connections(pg_app) >= 1
    time.sleep(postgres.PING_AFTER_IDLE_SECONDS + 0.2)
    assert client.get("/api/services").status_code == 200  # pinged, replaced, answered


def test_a_connection_dropped_while_in_use_fails_one_request_and_the_pool_recovers(pg_app):
    client = pg_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {pg_app.config['TOKEN']}"
    assert client.get("/api/services").status_code == 200
    _drop_connections(pg_app)
    first = client.get("/api/services")  # not idle long enough to be pinged
    assert first.status_code == 503, first.data
    assert first.get_json()["error"] == "database_unavailable"
    assert first.headers["Retry-After"] == "1"
    assert client.get("/api/services").status_code == 200
