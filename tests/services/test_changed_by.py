"""Who changed a unit last: the audited action that left it in its state, on its status
(the row's and the unit page's "Stopped by alice · 18:18"), dropped once something else
changes its state."""

from __future__ import annotations

from helpers import wait_for


def test_a_stop_names_its_actor_until_the_unit_is_started_behind_recons_back(client, target):
    try:
        assert client.post("/api/services/demo-worker/stop").get_json()["success"] is True
        status = client.get("/api/services/demo-worker/status").get_json()
        by = status["changed_by"]
        assert (status["state"], by["actor"], by["action"]) == (
            "inactive", "token:test-admin", "stop")
        assert by["at"] and by["audit_id"]
        compact = client.get("/api/services?view=compact").get_json()
        cols = compact["columns"]
        row = next(r for r in compact["services"] if r[cols.index("slug")] == "demo-worker")
        assert row[cols.index("changed_by")]["actor"] == "token:test-admin"
        target.systemctl("start", "demo-worker.service")  # nobody RECON knows of
        assert wait_for(lambda: (s := client.get("/api/services/demo-worker/status")
                                 .get_json())["state"] == "active" and s, timeout=10)
        assert "changed_by" not in client.get("/api/services/demo-worker/status").get_json()
    finally:
        target.systemctl("start", "demo-worker.service", check=False)
