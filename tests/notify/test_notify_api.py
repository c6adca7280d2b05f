"""/api/notify and the test action (no secrets shown, clear errors), the CLI, and the
cursor: events become deliveries exactly once, even with two notifiers racing."""

from __future__ import annotations

import json
import threading
import time

import sqlalchemy as sa
from conftest import client_for
from notify_receivers import WebhookReceiver, hook_toml

from recon.db.extensions import db
from recon.monitor.models import MonitorEvent
from recon.notify.models import NotifyDelivery
from recon.notify.worker import process
from recon.web.context import runtime


def test_channels_are_listed_without_secrets_and_tested_by_admins_only(
        make_app, target_info, monkeypatch):
    hook = WebhookReceiver(secret="sig-secret")
    monkeypatch.setenv("TEST_SIG", "sig-secret")
    app = make_app([target_info], monitor=False, extra_toml=hook_toml(
        "ops", hook.url + "?key=url-secret", secret_env="TEST_SIG"))
    admin, viewer = client_for(app), client_for(app, "viewer")
    body = viewer.get("/api/notify").get_json()
    assert [c["name"] for c in body["channels"]] == ["ops"]
    assert body["channels"][0]["signed"] is True and body["channels"][0]["failing"] is False
    assert "url-secret" not in json.dumps(body) and "sig-secret" not in json.dumps(body)
    denied = viewer.post("/api/notify/ops/test")
    assert denied.status_code == 403 and denied.get_json()["error"] == "forbidden"
    missing = admin.post("/api/notify/nope/test")
    assert missing.status_code == 404 and missing.get_json()["error"] == "unknown_channel"
    assert missing.get_json()["hint"]
    assert hook.received == []
    ok = admin.post("/api/notify/ops/test")
    assert ok.status_code == 200 and ok.get_json()["success"] is True
    assert hook.received[0]["signature_ok"] and hook.bodies()[0]["event"] == "test"
    result = app.test_cli_runner().invoke(args=["recon", "notify", "test", "ops"])
    assert result.exit_code == 0 and "sent through ops" in result.output
    assert len(hook.received) == 2
    result = app.test_cli_runner().invoke(args=["recon", "notify", "test", "nope"])
    assert result.exit_code == 1 and "no notification channel named 'nope'" in result.output
    hook.close()
    down = admin.post("/api/notify/ops/test")  # the receiver is gone now
    assert down.status_code == 502 and down.get_json()["error"] == "unreachable"
    assert "url-secret" not in json.dumps(down.get_json())


def test_each_event_becomes_one_delivery_even_with_two_notifiers_racing(
        make_app, target_info):
    app = make_app([target_info], monitor=False, extra_toml=hook_toml(
        "ops", "http://127.0.0.1:9/hook", resolve_seconds=0))
    config = runtime(app).config
    with app.app_context():
        process(config)  # the cursors start here: history is not announced
        now = time.time()
        for i in range(50):
            db.session.add(MonitorEvent(
                at=now, kind="unit", host="demo", service="demo-worker",
                from_state="active" if i % 2 == 0 else "failed",
                to_state="failed" if i % 2 == 0 else "active", cause="observed",
                payload=json.dumps({"unit": "demo-worker.service",
                                    "state": "failed" if i % 2 == 0 else "active",
                                    "sub_state": "failed" if i % 2 == 0 else "running"})))
        db.session.commit()

    def run() -> None:
        with app.app_context():
            for _ in range(5):
                process(config, tick=False)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with app.app_context():
        rows = db.session.scalars(sa.select(NotifyDelivery)).all()
        # 25 failures in a row of flaps: one "failed" message, the rest counted
        assert [(r.event, json.loads(r.data)["count"]) for r in rows] == [("unit_failed", 1)]
        process(config, now=time.time() + 1)  # the clock: the unit stayed up
        rows = db.session.scalars(sa.select(NotifyDelivery)).all()
        assert [(r.event, json.loads(r.data)["count"]) for r in rows] == [
            ("unit_failed", 1), ("unit_recovered", 25)]


def test_the_dashboard_carries_the_failing_channels_banner(make_app, target_info):
    app = make_app([target_info], monitor=False)
    page = client_for(app, "viewer").get("/").get_data(as_text=True)
    assert 'id="notify-banner"' in page and "/static/pages/notify.js" in page
    script = app.test_client().get("/static/pages/notify.js").get_data(as_text=True)
    assert "/api/notify" in script and "innerHTML" not in script
