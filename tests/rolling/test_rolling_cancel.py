"""Who may cancel a rolling action (issue 24, item 8): its actor, an admin, or an operator
allowed to act on every step still to come. Anyone else gets a 403 that is audited and changes
nothing: the run goes on over the whole fleet."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import token_client
from helpers import wait_for
from rolling_steps import hold_first_step

from recon.auth.accounts import create_token
from recon.web.context import runtime

WORKER = "demo-worker.service"


@pytest.fixture(autouse=True)
def short_settle(monkeypatch):
    """Steps settle 0.5 s: the demo units are up within milliseconds."""
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "0.5")


def _operators(app, *names: str) -> dict[str, object]:
    with app.app_context():
        return {n: token_client(app, create_token(n, "operator")[1]) for n in names}


def _only_for(app, slug: str, *allowed: str) -> None:
    """Let only ``allowed`` (principal names) act on ``slug``."""
    services = runtime(app).config.services
    services[slug] = dataclasses.replace(services[slug], allow=frozenset(allowed))


def _finished(client, run_id: int) -> dict:
    def done():
        body = client.get(f"/api/actions/{run_id}").get_json()
        return body if body["state"] != "running" else None
    body = wait_for(done, timeout=60, interval=0.2)
    assert body, f"rolling action {run_id} still running"
    return body


def _audit(app, run_id: int) -> list[dict]:
    with app.app_context():
        admin = token_client(app, app.config["TEST_TOKENS"]["admin"])
    return admin.get(f"/api/audit?group={run_id}").get_json()["entries"]


def test_an_operator_not_allowed_on_a_remaining_step_may_not_cancel_the_run(
        make_app, fleet, monkeypatch):
    hosts = fleet[:3]
    app = make_app([h.info for h in hosts])
    ops = _operators(app, "op1", "op2", "op3")
    slugs = [f"{h.name}-demo-worker" for h in hosts]
    _only_for(app, slugs[2], "token:op2", "token:op3")  # op1 may not act on the third
    before = [h.main_pid(WORKER) for h in hosts]
    first_done, release = hold_first_step(monkeypatch)
    resp = ops["op2"].post("/api/actions", json={"action": "restart", "services": slugs})
    assert resp.status_code == 202, resp.get_json()
    run_id = resp.get_json()["id"]
    try:
        assert first_done.wait(30)
        refused = ops["op1"].delete(f"/api/actions/{run_id}")
        body = refused.get_json()
        assert refused.status_code == 403, body
        assert body["error"] == "forbidden" and body["hint"] and body["services"] == [slugs[2]]
        assert "token:op1" in body["message"]
        shown = ops["op1"].get(f"/api/actions/{run_id}").get_json()
        assert shown["cancel_requested"] is False and shown["cancelled_by"] is None
    finally:
        release.set()
    done = _finished(ops["op2"], run_id)
    # op1's refused cancel changed nothing: every host was restarted.
    assert done["state"] == "succeeded", done
    assert [s["state"] for s in done["steps"]] == ["ok", "ok", "ok"]
    assert all(h.main_pid(WORKER) != b for h, b in zip(hosts, before, strict=True))
    refusals = [e for e in _audit(app, run_id) if e["action"] == "rolling.restart.cancel"]
    assert [(e["actor"], e["success"], e["error"]) for e in refusals] == [
        ("token:op1", False, "forbidden")]


def test_the_actor_an_admin_or_an_operator_allowed_on_every_remaining_step_may_cancel(
        make_app, fleet, monkeypatch):
    hosts = fleet[:3]
    app = make_app([h.info for h in hosts])
    ops = _operators(app, "op2", "op3")
    with app.app_context():
        admin = token_client(app, app.config["TEST_TOKENS"]["admin"])
    slugs = [f"{h.name}-demo-worker" for h in hosts]
    _only_for(app, slugs[2], "token:op2", "token:op3")
    # op3 started nothing but may act on every step still to come; op2 started the run; the
    # admin may act on anything.
    for who in (ops["op3"], ops["op2"], admin):
        # each run its own hold (the earlier ones, already passed, wrap it harmlessly)
        first_done, release = hold_first_step(monkeypatch)
        resp = ops["op2"].post("/api/actions", json={"action": "restart", "services": slugs})
        assert resp.status_code == 202, resp.get_json()
        run_id = resp.get_json()["id"]
        try:
            assert first_done.wait(30)
            cancel = who.delete(f"/api/actions/{run_id}")
            assert cancel.status_code == 202, cancel.get_json()
        finally:
            release.set()
        done = _finished(ops["op2"], run_id)
        assert done["state"] == "cancelled", done
        assert [s["state"] for s in done["steps"]] == ["ok", "skipped", "skipped"]
