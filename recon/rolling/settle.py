"""Watching one step's unit after its action: read it until it is active (or failed, or the
step's timeout passes), then through the settle, in which a crash, a restart or a new main
process makes the step fail (``unit_unstable``). Each read is published to the snapshot, so
the dashboard follows the step, and the run's heartbeat goes on between reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa
from flask import Flask

from recon.config import HostConfig, ServiceConfig
from recon.db.extensions import db
from recon.monitor import snapshot
from recon.monitor.healthstate import settled_healthy
from recon.rolling.models import RollingRun
from recon.services import act
from recon.services.act import Outcome
from recon.ssh import Executor, RemoteError
from recon.ssh.systemctl import fetch_statuses

POLL_SECONDS = 0.5  # between status reads while a step waits for its unit
HEARTBEAT_SECONDS = 2.0


class Watch:
    """Reads one unit's status, publishing each read (so the dashboard follows the step) and
    keeping the run's heartbeat going between reads."""

    def __init__(self, app: Flask, run_id: int, service: ServiceConfig, executor: Executor,
                 host: HostConfig, cause: snapshot.Cause) -> None:
        self.app, self.run_id, self.service, self.cause = app, run_id, service, cause
        self.executor, self.host = executor, host
        self.beat = time.monotonic()

    def read(self) -> dict:
        """The unit's status now; a RemoteError when the host does not answer."""
        observed = time.time()
        statuses = fetch_statuses(self.executor, self.host, [self.service.unit])
        with self.app.app_context():
            act.publish([self.service], statuses, observed, self.cause)
        return statuses[self.service.unit]

    def pause(self, until: float | None = None) -> None:
        """Wait one poll interval (no later than monotonic ``until``), beating if due."""
        if time.monotonic() - self.beat >= HEARTBEAT_SECONDS:
            self.beat = time.monotonic()
            with_app(self.app, lambda: _heartbeat(self.run_id))
        wait = POLL_SECONDS if until is None else min(POLL_SECONDS, until - time.monotonic())
        time.sleep(max(0.0, wait))


def wait_active(watch: Watch, action: str, timeout: float,
                sent: Outcome) -> tuple[Outcome, dict]:
    """Read the unit until it is active (ok) or failed, or ``timeout`` passed, after the
    command ``sent`` succeeded (its exit code, output and duration stay in the outcome); also
    returns the last status read (what the settle compares with)."""
    unit = watch.service.unit
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = watch.read()
        except RemoteError as exc:
            return _failed(sent, exc.code, f"no status after {action}: {exc.message}"), {}
        reached = _reached(status, unit, action, sent)
        if reached is not None:
            return reached, status
        if time.monotonic() >= deadline:
            state = status.get("state") or "unknown"
            return _failed(sent, "not_active",
                           f"{unit} still {state} {timeout:g} s after {action}"), status
        watch.pause()


def _reached(status: dict, unit: str, action: str, sent: Outcome) -> Outcome | None:
    """The step's outcome once its unit is active (done) or failed; None while it moves."""
    state = status.get("state")
    if state == "active":
        return replace(sent, main_pid=status.get("main_pid") or None)
    if state == "failed":
        return _failed(sent, "unit_failed", f"{unit} failed after {action} "
                       f"(result {status.get('result') or 'unknown'})")
    return None


def _failed(sent: Outcome, error: str, message: str, main_pid: int | None = None) -> Outcome:
    """The step failed after its command ``sent`` ran (and succeeded)."""
    return replace(sent, ok=False, error=error, message=message, main_pid=main_pid)


def settle_step(watch: Watch, action: str, first: dict, done: Outcome, until: float,
            acted: float) -> Outcome:
    """Keep reading until monotonic ``until``: the unit must stay as ``first`` found it
    (active, same MainPID and NRestarts). The last read is made at or after ``until``, so
    "stayed up" covers the whole settle, not just its start."""
    unit = watch.service.unit
    while True:
        watch.pause(until)
        try:
            status = watch.read()
        except RemoteError as exc:
            # Unread is not proven stable: a step vouches only for what it saw.
            return _failed(done, exc.code, f"no status while {unit} settled: {exc.message}")
        change = instability(status, first)
        if change is not None:
            what, details = change
            after = time.monotonic() - acted
            return _failed(done, "unit_unstable",
                           f"{unit} {what} {after:.1f} s after {action} ({', '.join(details)})",
                           main_pid=status.get("main_pid") or None)
        if time.monotonic() >= until:
            return done


def wait_healthy(watch: Watch, action: str, done: Outcome, since: float,
                 timeout: float) -> Outcome:
    """A service with a health check (``[services.health]``): after its unit came up (and
    settled), wait until a check run after the action (epoch ``since``) passed. The monitor
    checks a unit at once when it (re)starts and every 2 s while it fails
    (:mod:`recon.monitor.healthcheck`); the health it publishes is read from the snapshot.
    The step fails (``unhealthy``) when the check makes the service ``failing``, or has not
    passed within ``timeout``."""
    unit, check = watch.service.unit, watch.service.health
    deadline = time.monotonic() + timeout
    status: dict = {}
    while True:
        with watch.app.app_context():
            status = snapshot.read_service(watch.service)
        verdict = settled_healthy(status, since)
        if verdict is True:
            return done
        last = ((status.get("health_check") or {}).get("last") or {}).get("message")
        if verdict is False or time.monotonic() >= deadline:
            what = ("fails its health check" if verdict is False else
                    f"did not pass its health check within {timeout:g} s")
            return _failed(done, "unhealthy",
                           f"{unit} is up after {action} but {what} ({check.kind} "
                           f"{check.target()}; last: {last or 'not checked yet'})",
                           main_pid=done.main_pid)
        watch.pause(deadline)


# Still up: a reload keeps the main process (ActiveState "reloading" while it runs).
_UP_STATES = ("active", "reloading")


def instability(now: dict, first: dict) -> tuple[str, list[str]] | None:
    """How the unit moved since it came up: what happened and its details ("restarted",
    ["NRestarts 0 → 1", ...]); None while it holds still."""
    state = now.get("state") or "unknown"
    up = state in _UP_STATES
    # A unit that is down has no MainPID: that it changed says nothing more.
    watched = (("restarts", "NRestarts"), ("main_pid", "MainPID"))[:2 if up else 1]
    details = [f"{label} {first.get(key) or 0} → {now.get(key) or 0}"  # systemd's "none": 0
               for key, label in watched if now.get(key) != first.get(key)]
    if up:
        return ("restarted", details) if details else None
    if state == "failed":
        return "failed", [_ending(now), *details]
    if now.get("sub_state") == "auto-restart":
        return "went down", [_ending(now), "systemd is restarting it", *details]
    return f"went {state}", [_ending(now), *details]


def _ending(status: dict) -> str:
    """How the main process last ended, in systemd's terms."""
    if status.get("exit_signal"):
        return f"killed by {status['exit_signal']}"
    if status.get("exit_code") is not None:
        return f"exited {status['exit_code']}"
    return f"result {status.get('result') or 'unknown'}"


def with_app(app: Flask, fn: Callable[[], None]) -> None:
    with app.app_context():
        fn()


def _heartbeat(run_id: int) -> None:
    try:
        db.session.get(RollingRun, run_id).heartbeat_at = time.time()
        db.session.commit()
    except sa.exc.OperationalError:
        db.session.rollback()
