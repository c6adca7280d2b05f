"""Background work (recon.jobs): a task whose pass fails says so and runs again; the monitor's
lease thread outlives failing leader duties; a process starts its background work once.
No host needed: the app has an empty fleet."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from pg_cluster import app_database_uri

from recon import create_app
from recon.jobs import background
from recon.jobs.loop import Every
from recon.monitor import lease


@pytest.fixture
def empty_app(tmp_path: Path) -> Flask:
    config = tmp_path / "recon.toml"
    config.write_text("[settings]\nterminal_gc_seconds = 1\n")
    return create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                       "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})


def wait_until(check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def test_a_task_whose_pass_fails_logs_it_and_runs_again(empty_app, caplog):
    calls = []

    def task():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("disk full")

    every = Every(empty_app, "flaky", task, lambda: 0.05).start()
    try:
        assert wait_until(lambda: len(calls) >= 3)
    finally:
        every.stop()
    assert every.failures == 1 and not every.thread.is_alive()
    failed = [r for r in caplog.records if r.name == "recon.jobs" and r.levelno == logging.ERROR]
    assert len(failed) == 1 and "flaky failed" in failed[0].getMessage()
    assert "disk full" in (failed[0].exc_text or "")


def test_a_broken_interval_does_not_end_the_loop(empty_app):
    every = Every(empty_app, "odd", lambda: None, lambda: 1 / 0)
    assert every._interval() == 5.0


class FailingDuties:
    def __init__(self):
        self.begun = threading.Event()
        self.renewals = 0

    def begin(self, owner: str, since: float) -> None:
        self.begun.set()

    def renew(self) -> None:
        self.renewals += 1
        raise RuntimeError("repair blew up")

    def end(self) -> None:
        pass


def test_the_monitor_outlives_failing_leader_duties(empty_app, monkeypatch, caplog):
    monkeypatch.setattr(lease, "RENEW_SECONDS", 0.05)
    duties = FailingDuties()
    monitor = lease.Monitor(empty_app, duties).start()
    try:
        assert duties.begun.wait(5)
        assert wait_until(lambda: duties.renewals >= 3)
        assert monitor.leader and monitor._thread.is_alive()
    finally:
        monitor.stop()
    assert any("leader duties failed" in r.getMessage() for r in caplog.records)


def test_a_process_starts_its_background_work_once(empty_app):
    work = background.start(empty_app)
    try:
        assert background.start(empty_app) is work
        assert sorted(t.name for t in work.tasks) == ["config-watch", "host-units", "retention",
                                                      "terminal-gc"]
        assert all(t.thread.is_alive() for t in work.tasks)
        assert empty_app.extensions["recon.monitor"] is work.monitor
        assert wait_until(lambda: work.monitor.leader)
        assert isinstance(work.monitor.duties, background.LeaderDuties)
    finally:
        work.stop()
    assert not any(t.thread.is_alive() for t in work.tasks)
