"""A rolling run on several hosts at once, with a pause between batches (issue 27): the hosts
of a batch overlap, the next batch waits the pause, a cancel during the pause skips the rest,
and bad values are refused with nothing written."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import client_for
from helpers import wait_for


@pytest.fixture(autouse=True)
def short_settle(monkeypatch):
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "1")


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _finished(client, run_id: int, timeout: float = 90) -> dict:
    def done():
        body = client.get(f"/api/actions/{run_id}").get_json()
        return body if body["state"] != "running" else None
    body = wait_for(done, timeout=timeout, interval=0.2)
    assert body, f"rolling action {run_id} still running after {timeout} s"
    return body


def test_hosts_run_two_at_a_time_with_a_pause_between_batches(make_app, fleet):
    hosts = fleet[:4]
    app = make_app([h.info for h in hosts])
    client = client_for(app, "operator")
    resp = client.post("/api/actions", json={
        "action": "restart", "services": [f"{h.name}-demo-worker" for h in hosts],
        "batch_hosts": 2, "pause_seconds": 2})
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["batch_hosts"] == 2 and resp.get_json()["pause_seconds"] == 2
    body = _finished(client, resp.get_json()["id"])
    assert body["state"] == "succeeded", body
    s = body["steps"]
    # a batch's two hosts overlap: each began before the other ended (settle is 1 s)
    assert _t(s[1]["started_at"]) < _t(s[0]["finished_at"])
    assert _t(s[3]["started_at"]) < _t(s[2]["finished_at"])
    # the second batch began at least the pause after the first had ended
    first_end = max(_t(s[0]["finished_at"]), _t(s[1]["finished_at"]))
    assert min(_t(s[2]["started_at"]), _t(s[3]["started_at"])) >= first_end + 1.9


def test_a_cancel_during_the_pause_skips_the_rest(make_app, fleet):
    hosts = fleet[:2]
    app = make_app([h.info for h in hosts])
    client = client_for(app, "operator")
    run = client.post("/api/actions", json={
        "action": "restart", "services": [f"{h.name}-demo-worker" for h in hosts],
        "pause_seconds": 30}).get_json()

    def pausing():
        body = client.get(f"/api/actions/{run['id']}").get_json()
        return body["steps"][0]["state"] == "ok"
    assert wait_for(pausing, timeout=30)
    assert client.delete(f"/api/actions/{run['id']}").status_code == 202
    body = _finished(client, run["id"], timeout=10)
    assert body["state"] == "cancelled", body
    assert [st["state"] for st in body["steps"]] == ["ok", "skipped"]
    assert "pause" in body["message"]


@pytest.mark.parametrize("extra", [{"batch_hosts": 0}, {"batch_hosts": 51},
                                   {"batch_hosts": 1.5}, {"batch_hosts": True},
                                   {"pause_seconds": -1}, {"pause_seconds": 3601},
                                   {"pause_seconds": "10"}])
def test_a_bad_batch_or_pause_is_refused_and_starts_nothing(make_app, target_info, extra):
    app = make_app([target_info])
    client = client_for(app, "operator")
    resp = client.post("/api/actions", json={"action": "restart",
                                             "services": ["demo-worker"], **extra})
    body = resp.get_json()
    assert resp.status_code == 400 and body["error"] == "invalid_parameter", body
    assert body["parameter"] == next(iter(extra)) and body["hint"]
    assert client.get("/api/actions").get_json()["actions"] == []
