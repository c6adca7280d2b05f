"""A supervisor whose loop raises something unexpected (a bug, not a host failure) is
restarted with a back-off and says so: the host goes on being read, and while it cannot be,
the host is shown as not watched."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import replace

from conftest import client_for, start_monitor
from helpers import wait_for

from recon.db.extensions import db
from recon.monitor import snapshot, supervisor


def test_an_unexpected_error_in_a_supervisor_is_logged_and_the_host_read_again(
        make_app, target_info, monkeypatch, caplog):
    real = supervisor.fetch_statuses
    raised: list[float] = []

    def buggy(*args, **kwargs):
        if not raised:
            raised.append(time.time())
            raise KeyError("a bug in parsing")
        return real(*args, **kwargs)

    monkeypatch.setattr(supervisor, "fetch_statuses", buggy)
    app = make_app([target_info], monitor=False)
    mon = start_monitor(app, wait=0)
    sup = wait_for(lambda: mon.supervisors.get("demo"), timeout=10)

    def read_after_the_crash() -> bool:
        with app.app_context():
            row = snapshot.read_host("demo")
            seen = row is not None and row.last_seen is not None and raised \
                and row.last_seen > raised[0]
            db.session.remove()
            return bool(seen)

    assert wait_for(read_after_the_crash, timeout=15)
    assert sup.crashes == 1 and sup._thread.is_alive()
    failed = [r for r in caplog.records
              if r.levelno == logging.ERROR and "supervisor of demo failed" in r.getMessage()]
    assert len(failed) == 1 and "a bug in parsing" in (failed[0].exc_text or "")


def test_a_host_whose_supervisor_keeps_failing_is_shown_not_watched_and_counted(
        make_app, target_info, tmp_path, monkeypatch):
    """A bug that hits one host every time: its supervisor restarts with a back-off, the host
    is "not watched" in /api/services (with why), /healthz says degraded with the count, and
    /metrics counts the restarts; the other host stays watched. Once the bug is gone the
    host is watched again by itself."""
    key = tmp_path / "other_key"
    shutil.copy(target_info.key_path, key)
    broken = replace(target_info, name="broken", key_path=key)
    real = supervisor.fetch_statuses
    bug = {"on": True}

    def buggy(executor, host, *args, **kwargs):
        if host.name == "broken" and bug["on"]:
            raise KeyError("a bug in parsing")
        return real(executor, host, *args, **kwargs)

    monkeypatch.setattr(supervisor, "fetch_statuses", buggy)
    app = make_app([target_info, broken], monitor=False)
    start_monitor(app, wait=0)
    client = client_for(app, "viewer")

    def hosts() -> dict[str, dict]:
        return {h["name"]: h for h in client.get("/api/services").get_json()["hosts"]}

    assert wait_for(lambda: not hosts()["broken"]["watched"] and hosts()["demo"]["watched"],
                    timeout=15)
    assert "a bug in parsing" in hosts()["broken"]["watch_reason"]
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded" and health.get_json()["not_watched"] == 1
    metrics = client_for(app, "admin").get("/metrics").get_data(as_text=True)
    assert 'recon_host_watched{host="broken"} 0.0' in metrics
    assert "recon_hosts_not_watched 1.0" in metrics
    restarts = [line for line in metrics.splitlines()
                if line.startswith("recon_monitor_supervisor_restarts_total ")]
    assert restarts and float(restarts[0].split()[1]) >= 1

    bug["on"] = False  # fixed (a deploy, in real life): the next restart goes through
    assert wait_for(lambda: hosts()["broken"]["watched"], timeout=15)
    assert app.test_client().get("/healthz").get_json()["status"] == "ok"
