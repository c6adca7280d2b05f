"""A rolling step of a service with a health check waits for a check run after the action
to pass before it is done; a check that fails after the restart fails the step (and the run
stops there) with the check's last result in its message."""

from __future__ import annotations

from datetime import datetime

from conftest import client_for
from health_config import PAGE, web_health_toml
from helpers import wait_for


def _extra(name: str, address: str) -> str:
    return web_health_toml(name, address, body=None, interval=30, recover_after=1)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _run(client, slug: str) -> dict:
    run = client.post("/api/actions", json={"action": "restart", "services": [slug]})
    assert run.status_code == 202, run.get_json()
    return wait_for(lambda: (b := client.get(f"/api/actions/{run.get_json()['id']}")
                             .get_json())["state"] != "running" and b, timeout=60)


def test_a_rolling_restart_waits_for_the_check_and_fails_when_it_fails(
        make_app, target, monkeypatch):
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "0")
    info = target.info
    target.run(["sh", "-c", f"echo ok > {PAGE}"])
    app = make_app([info], extra_toml=_extra(info.name, info.address))
    client = client_for(app, "admin")
    try:
        status = lambda: client.get("/api/services/web-health/status").get_json()  # noqa: E731
        assert wait_for(lambda: status().get("health") == "passing", timeout=20)
        body = _run(client, "web-health")
        assert body["state"] == "succeeded", body
        (step,) = body["steps"]
        # The step ended after a check run after its action passed (the interval is 30 s:
        # the monitor checked the restarted unit at once, and the step waited for it).
        last = status()["health_check"]["last"]
        assert last["ok"] is True
        started, finished = _epoch(step["started_at"]), _epoch(step["finished_at"])
        assert started <= _epoch(last["at"]) <= finished + 0.5, (step, last)

        # The page goes, then a restart: the check fails twice (2 s apart) and so the step.
        target.run(["rm", "-f", PAGE])
        body = _run(client, "web-health")
        assert body["state"] == "failed", body
        (step,) = body["steps"]
        assert step["error"] == "unhealthy", step
        assert "fails its health check" in step["message"] and "HTTP 404" in step["message"]
    finally:
        target.run(["rm", "-f", PAGE])
