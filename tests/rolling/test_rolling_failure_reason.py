"""What a failed step says: systemctl's own reason ("Unit ... is masked"), in the step, the
run and a single action's answer, not only in the audit trail; and a masked unit that still
runs can be stopped (masking prevents starts, not stops)."""

from __future__ import annotations

from conftest import client_for
from helpers import wait_for

CRON = "demo-cron.service"


def test_a_masked_running_unit_stops_and_a_rolling_restart_of_it_says_why_it_failed(
        app, target, monkeypatch):
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "0")
    client = client_for(app, "admin")
    target.systemctl("mask", "--runtime", CRON)
    try:
        assert wait_for(lambda: client.get("/api/services/demo-cron/status?fresh=1")
                        .get_json()["masked"], timeout=10)
        run = client.post("/api/actions", json={"action": "restart", "services": ["demo-cron"]})
        assert run.status_code == 202, run.get_json()
        body = wait_for(lambda: (b := client.get(f"/api/actions/{run.get_json()['id']}")
                                 .get_json())["state"] != "running" and b, timeout=30)
        assert body["state"] == "failed", body
        (step,) = body["steps"]
        assert step["error"] == "action_failed"
        assert "is masked" in step["message"] and "exited 1" in step["message"], step
        assert "is masked" in body["message"]
        # stop works on a masked unit that runs: the API does it, and says so
        stopped = client.post("/api/services/demo-cron/stop").get_json()
        assert stopped["success"] is True, stopped
        assert target.show(CRON, "ActiveState")["ActiveState"] == "inactive"
        started = client.post("/api/services/demo-cron/start").get_json()
        assert started["success"] is False and "is masked" in started["message"], started
    finally:
        target.systemctl("unmask", "--runtime", CRON, check=False)
        target.systemctl("start", CRON, check=False)
