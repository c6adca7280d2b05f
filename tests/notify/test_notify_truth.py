"""Notifications that tell the truth (issue 27), from a real host to a real webhook receiver:
a fresh failure does not wait behind the retries of an older message while the receiver was
down, and a failure read late (the monitor and the notifier changed hands meanwhile) says
when it happened, not when it was read."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from conftest import client_for, start_monitor
from helpers import wait_for
from notify_receivers import WebhookReceiver, hook_toml

from recon.db.extensions import db
from recon.notify.models import NotifyDelivery
from recon.notify.wording import clock, epoch


def crash(target, unit: str) -> float:
    """kill -9 the unit's main process (no Restart= on it: it goes failed); when it was."""
    pid = target.main_pid(unit)
    assert pid
    target.run(["kill", "-9", str(pid)])
    return time.time()


def _attempts(app, service: str) -> int:
    with app.app_context():
        row = db.session.scalars(sa.select(NotifyDelivery).where(
            NotifyDelivery.service == service)).first()
        return row.attempts if row is not None else 0


def test_a_fresh_failure_is_not_held_behind_the_retries_of_an_older_message(
        make_app, target_info, target):
    hook = WebhookReceiver(status=503)  # down: answers 503 to everything
    app = make_app([target_info], extra_toml=hook_toml(
        "ops", hook.url, services=["demo-worker", "demo-cron"], resolve_seconds=600,
        max_attempts=20))
    try:
        crash(target, "demo-worker.service")
        # the worker's "failed" is retried with back-off: attempts 1, 2, 3 and 4 at about
        # +0, +1, +3 and +7 s; the next one is due only at about +15 s
        assert wait_for(lambda: _attempts(app, "demo-worker") >= 4, timeout=15)
        hook.status = 200  # the receiver is back
        crashed = crash(target, "demo-cron.service")
        assert wait_for(lambda: _delivered(app, "demo-cron"), timeout=10)
        fresh = next(r for r in hook.received if r["body"]["service"] == "demo-cron")
        late = fresh["arrived"] - crashed
        print(f"\nthe fresh failure arrived {late:.2f} s after the crash")
        assert late < 2.0, f"the fresh failure waited {late:.1f} s behind older retries"
        # and the older message, released from its back-off by that success, follows at once
        # (without the release: at its next attempt, about +15 s)
        assert wait_for(lambda: _delivered(app, "demo-worker"), timeout=3)
    finally:
        target.systemctl("start", "demo-worker.service", check=False)
        target.systemctl("start", "demo-cron.service", check=False)
        hook.close()


def _delivered(app, service: str) -> bool:
    with app.app_context():
        return db.session.scalar(sa.select(NotifyDelivery.status).where(
            NotifyDelivery.service == service)) == "sent"


def test_a_failure_read_late_while_the_notifier_changed_hands_says_when_it_happened(
        make_app, target_info, target):
    hook = WebhookReceiver()
    app = make_app([target_info], extra_toml=hook_toml(
        "ops", hook.url, services=["demo-worker"], resolve_seconds=600))
    client = client_for(app)
    try:
        # the process that watched the host and ran the notifier goes away ...
        app.extensions["recon.monitor"].stop()
        crashed = crash(target, "demo-worker.service")
        time.sleep(4)
        # ... and another takes both over: it reads the unit failed, seconds after the fact
        start_monitor(app)
        assert wait_for(lambda: hook.bodies("unit_failed"), timeout=10)
        (body,) = hook.bodies("unit_failed")
        failed_at = epoch(body["failed_at"])
        assert failed_at is not None and abs(failed_at - crashed) < 1.5, (body, crashed)
        assert f"failed at {clock(failed_at)} (seen " in body["text"], body["text"]
        assert client.get("/api/services/demo-worker/status").get_json()["state"] == "failed"
        with app.app_context():
            row = db.session.scalars(sa.select(NotifyDelivery)).first()
            assert json.loads(row.data)["failed_at"] == body["failed_at"]
    finally:
        target.systemctl("start", "demo-worker.service", check=False)
        hook.close()
