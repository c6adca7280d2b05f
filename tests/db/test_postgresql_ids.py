"""Ids past PostgreSQL's ``integer`` range (recon/db/ids.py): accepted by the routes up to
2**63-1 as on SQLite, and answered as "no such row" -- never a 500 ("integer out of range")."""

from __future__ import annotations

from pathlib import Path

import pg_cluster
import pytest

from recon.auth.accounts import create_token

pytestmark = [pytest.mark.host, pytest.mark.skipif(pg_cluster.unavailable_reason() is not None,
                                                     reason=str(pg_cluster.unavailable_reason()))]
HUGE = 2**63 - 1


def test_ids_past_the_integer_range_find_nothing(tmp_path: Path):
    with pg_cluster.empty_app(tmp_path) as app:
        with app.app_context():
            token = create_token("admin", "admin")[1]
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        for method in ("GET", "DELETE"):
            resp = client.open(f"/api/actions/{HUGE}", method=method)
            assert resp.status_code == 404 and resp.get_json()["error"] == "unknown_run"
        resp = client.get(f"/api/audit?group={2**62}")
        assert resp.status_code == 200 and resp.get_json()["entries"] == []
        resp = client.get("/api/events", headers={"Last-Event-ID": str(HUGE)},
                          buffered=False)
        assert resp.status_code == 200
        resp.close()
