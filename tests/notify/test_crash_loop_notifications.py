"""A crash loop on a real host is a notification of its own: told once when it begins,
grouped while it goes on, and the unit's failure resolved once the loop has ended; every
unit message names the unit."""

from __future__ import annotations

import time

from conftest import client_for
from helpers import wait_for
from notify_receivers import WebhookReceiver, hook_toml

WORKER = "demo-worker.service"
FAIL_EVERY_SECOND = """[Unit]
StartLimitIntervalSec=0
[Service]
ExecStart=
ExecStart=/bin/sh -c 'exit 1'
Restart=always
RestartSec=1
"""


def test_a_crash_loop_is_told_once_grouped_and_resolved_with_the_unit_named(
        make_app, target, monkeypatch):
    monkeypatch.setenv("RECON_CRASH_LOOP_RESTARTS", "3")
    monkeypatch.setenv("RECON_CRASH_LOOP_WINDOW_SECONDS", "8")
    monkeypatch.setenv("RECON_MONITOR_POLL_SECONDS", "2")
    hook = WebhookReceiver()
    app = make_app([target.info], extra_toml=hook_toml(
        "ops", hook.url, services=["demo-worker"], group_seconds=4, resolve_seconds=1))
    client = client_for(app)
    target.set_dropin(WORKER, "crashloop", FAIL_EVERY_SECOND)
    try:
        target.systemctl("restart", WORKER)
        assert wait_for(lambda: hook.bodies("unit_crash_looping"), timeout=30)
        # let it loop past a grouping window
        assert wait_for(lambda: len(hook.bodies("unit_crash_looping")) >= 2, timeout=20)
    finally:
        target.set_dropin(WORKER, "crashloop", None)
        target.systemctl("restart", WORKER)
    assert wait_for(lambda: hook.bodies("unit_recovered"), timeout=40)
    time.sleep(1)
    assert client.get("/api/services/demo-worker/status").get_json()["crash_looping"] is False
    events = hook.bodies()
    kinds = [e["event"] for e in events]
    assert kinds[0] == "unit_failed" and kinds[-1] == "unit_recovered", kinds
    first, *more = hook.bodies("unit_crash_looping")
    assert first["count"] >= 3 and first["window_seconds"] == 8 and first["resolved"] is False
    assert "is crash-looping" in first["text"] and "exit code 1" in first["text"]
    # After the first: grouped reports ("crashed N more times"); a message that is not one
    # may only be the loop's end (systemd's start limit can end it before the drop-in goes).
    grouped = [m for m in more if m.get("grouped", 0) >= 1]
    assert grouped and all(m in grouped or m.get("resolved") for m in more), more
    assert "crashed" in grouped[0]["text"] and "more time(s)" in grouped[0]["text"]
    # while the loop was open the failure was not grouped on its own: one story, not two
    assert kinds.count("unit_failed") == 1, kinds
    assert kinds.count("unit_recovered") == 1
    for body in events:
        assert body["unit"] == WORKER, body
    hook.close()
