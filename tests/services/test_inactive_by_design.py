"""Inactive by design is no problem: a timer-run oneshot between runs and a unit the admin
expects stopped say why (``stopped_ok``), a unit stopped unexpectedly says nothing."""

from __future__ import annotations

from conftest import client_for
from helpers import wait_for

EXTRA = """
[[services]]
slug = "backup"
name = "Backup"
host = "demo"
unit = "demo-backup.service"
actions = ["status", "start", "logs"]

[[services]]
slug = "parked"
name = "Parked"
host = "demo"
unit = "demo-flaky.service"
actions = ["status", "start", "stop", "logs"]
expect = "stopped"
"""


def test_a_timer_run_oneshot_and_an_expected_stop_are_not_problems_a_stray_stop_is(
        make_app, target):
    app = make_app([target.info], extra_toml=EXTRA)
    client = client_for(app, "admin")
    target.systemctl("stop", "demo-flaky.service")
    try:
        def status(slug: str) -> dict:
            return client.get(f"/api/services/{slug}/status").get_json()

        assert wait_for(lambda: status("parked")["state"] == "inactive", timeout=10)
        backup = status("backup")
        # no `timer` key in the config: systemd's TriggeredBy says a timer runs it
        assert (backup["type"], backup["timer_driven"], backup["stopped_ok"]) == (
            "oneshot", True, "timer")
        assert status("parked")["stopped_ok"] == "expected"
        assert status("demo-worker")["stopped_ok"] is None
        compact = client.get("/api/services?view=compact").get_json()
        cols = compact["columns"]
        by_slug = {r[cols.index("slug")]: r for r in compact["services"]}
        assert by_slug["backup"][cols.index("stopped_ok")] == "timer"
    finally:
        target.systemctl("start", "demo-flaky.service")
