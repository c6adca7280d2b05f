"""Crash loops on a real host: a unit that fails every second under Restart=always is shown
``crash-looping`` (state, history, metric) and running again once it stays up a window."""

from __future__ import annotations

from conftest import client_for
from helpers import wait_for

WORKER = "demo-worker.service"
# Fails at once, restarted a second later, forever (no start limit to end it as "failed").
FAIL_EVERY_SECOND = """[Unit]
StartLimitIntervalSec=0
[Service]
ExecStart=
ExecStart=/bin/sh -c 'echo crashing; exit 1'
Restart=always
RestartSec=1
"""
WINDOW = 12


def _status(client) -> dict:
    return client.get("/api/services/demo-worker/status").get_json()


def test_a_unit_failing_every_second_is_crash_looping_then_running_once_it_stays_up(
        make_app, target, monkeypatch):
    monkeypatch.setenv("RECON_CRASH_LOOP_RESTARTS", "3")
    monkeypatch.setenv("RECON_CRASH_LOOP_WINDOW_SECONDS", str(WINDOW))
    monkeypatch.setenv("RECON_MONITOR_POLL_SECONDS", "2")  # the window's end is seen soon
    app = make_app([target.info])
    client = client_for(app, "admin")
    assert _status(client)["crash_looping"] is False
    target.set_dropin(WORKER, "crashloop", FAIL_EVERY_SECOND)
    try:
        target.systemctl("restart", WORKER)
        looping = wait_for(lambda: (s := _status(client))["crash_looping"] and s, timeout=30)
        assert looping, _status(client)
        crash = looping["crash"]
        assert crash["count"] >= 3 and crash["window_seconds"] == WINDOW and crash["since"]
        assert crash["last_exit"]["code"] == 1 and crash["last_exit"]["result"] == "exit-code"
        assert crash["last_exit"]["at"]
        # the compact view (the page's) carries it too
        compact = client.get("/api/services?view=compact").get_json()
        cols = compact["columns"]
        row = next(r for r in compact["services"] if r[cols.index("slug")] == "demo-worker")
        assert row[cols.index("crash_looping")] is True
        metrics = client.get("/metrics").get_data(as_text=True)
        labels = f'host="{target.name}",service="demo-worker",unit="{WORKER}"'
        assert f"recon_unit_crash_looping{{{labels}}} 1.0" in metrics
        events = client.get("/api/services/demo-worker/history").get_json()["events"]
        assert any(e["crash_looping"] for e in events)
        assert any(e["sub_state"] == "auto-restart" and e["exit_code"] == 1 for e in events)
    finally:
        target.set_dropin(WORKER, "crashloop", None)
        target.systemctl("restart", WORKER)
    # Up again, but crash-looping until it has stayed up a whole window.
    assert wait_for(lambda: _status(client)["state"] == "active", timeout=10)
    assert _status(client)["crash_looping"] is True
    back = wait_for(lambda: (s := _status(client))["crash_looping"] is False and s,
                    timeout=WINDOW + 15)
    assert back and back["state"] == "active", _status(client)
    events = client.get("/api/services/demo-worker/history").get_json()["events"]
    assert events[0]["crash_looping"] is False and events[0]["to"] == "active"
