"""The runner of a rolling action: one background thread per run, in the worker that took it.

Steps run in order (one host at a time, a host's services in sequence). For each step the
runner checks the cancel flag, refuses a host the monitor saw down, writes the step's audit
entry, sends the action, then reads the unit until it is active again (or failed, or
``rolling_step_timeout`` passes), then keeps reading for the run's settle time: a unit that
crashes, restarts or changes its main process meanwhile fails the step (``unit_unstable``), so
a bad config rolled out stops at the first host it breaks. The first failure ends the run and
skips what is left; a cancel lets the running step (settle included) finish and skips the
rest. Every database access is a short app-context block, so the thread holds no connection
while it waits on a host.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from .. import audit
from ..config import HostConfig, ServiceConfig
from ..extensions import db
from ..monitor import snapshot
from ..runtime import runtime
from ..ssh import Executor, RemoteError
from ..systemd import fetch_statuses, run_action
from .models import RollingRun, RollingStep

log = logging.getLogger("recon.rolling")
POLL_SECONDS = 0.5  # between status reads while a step waits for its unit
HEARTBEAT_SECONDS = 2.0
DOWN_VERDICT_SECONDS = 60.0  # as single actions: an older "down" verdict is not trusted


def stale_after(config) -> float:
    """A running run whose runner was silent this long lost its process (the longest a
    command can take without a heartbeat, plus slack)."""
    return audit.longest_action_seconds(config) + HEARTBEAT_SECONDS + 30


def finish_stale_runs(config, now: float) -> int:
    """Runs whose runner went silent (its process died) end as ``interrupted``: steps not
    begun are skipped and the run's audit entry is closed. Returns how many ended."""
    stale = list(db.session.scalars(sa.select(RollingRun.id).where(
        RollingRun.state == "running", RollingRun.heartbeat_at < now - stale_after(config))))
    for run_id in stale:
        _finish_run(run_id, "interrupted", "interrupted",
                    "the dashboard process running it stopped")
    return len(stale)


def live_run_ids(config, now: float) -> sa.Select:
    """Ids of running runs whose runner still beats (their audit entries are not stale)."""
    return sa.select(RollingRun.id).where(RollingRun.state == "running",
                                          RollingRun.heartbeat_at >= now - stale_after(config))


@dataclass
class Outcome:
    ok: bool
    exit_code: int | None = None
    error: str | None = None
    message: str | None = None
    output: str = ""
    main_pid: int | None = None


def start(app: Flask, run_id: int) -> threading.Thread:
    thread = threading.Thread(target=_guarded, args=(app, run_id), daemon=True,
                              name=f"recon-rolling-{run_id}")
    thread.start()
    return thread


def _guarded(app: Flask, run_id: int) -> None:
    try:
        run_steps(app, run_id)
    except Exception as exc:  # noqa: BLE001 - the run must end in a state, never hang
        log.exception("rolling action %s broke", run_id)
        with app.app_context():
            _finish_run(run_id, "failed", "internal_error", f"the runner failed: {exc}")


def run_steps(app: Flask, run_id: int) -> None:
    with app.app_context():
        run = db.session.get(RollingRun, run_id)
        action, actor = run.action, run.actor
        settle = run.settle_seconds or 0.0  # None: stored before settling existed
        steps = [(s.id, s.service) for s in _steps(run_id)]
    for step_id, slug in steps:
        with app.app_context():
            run = db.session.get(RollingRun, run_id)
            if run.cancel_requested:
                _finish_run(run_id, "cancelled", "cancelled",
                            f"cancelled by {run.cancelled_by}; the rest was skipped")
                return
            service = runtime().config.services[slug]
            begun = _begin_step(run_id, step_id, service, action, actor)
        if isinstance(begun, Outcome):  # refused before anything was sent
            outcome, entry = begun, None
        else:
            entry = begun
            outcome = _act_and_wait(app, run_id, step_id, service, action,
                                    snapshot.Cause(entry, actor, action), settle)
        with app.app_context():
            _finish_step(step_id, entry, outcome)
            if not outcome.ok:
                _finish_run(run_id, "failed", outcome.error,
                            f"{slug} on {service.host}: {outcome.message}; the rest was skipped")
                return
    with app.app_context():
        cancelled = db.session.get(RollingRun, run_id).cancel_requested
        # A cancel that came during the last step changed nothing: every step ran.
        _finish_run(run_id, "succeeded", None,
                    "every step done" + (" (the cancel came after the last step began)"
                                         if cancelled else ""))


def _steps(run_id: int) -> list[RollingStep]:
    return list(db.session.scalars(sa.select(RollingStep).where(RollingStep.run_id == run_id)
                                   .order_by(RollingStep.position)))


def _begin_step(run_id: int, step_id: int, service: ServiceConfig, action: str,
                actor: str) -> int | Outcome:
    """Audit the step (before it is sent) and mark it running; a host the monitor saw down
    is refused here, audited too."""
    step = db.session.get(RollingStep, step_id)
    down = snapshot.host_down(snapshot.read_host(service.host),
                              fresh_within=DOWN_VERDICT_SECONDS)
    if down is not None:
        entry = audit.record(action, success=False, service=service.slug, host=service.host,
                             error=down.code, output=down.message, actor=actor,
                             group_id=run_id)
        step.audit_id, step.started_at = entry.id, time.time()
        db.session.commit()
        return Outcome(False, error=down.code, message=down.message)
    entry_id = audit.begin(action, service=service.slug, host=service.host, actor=actor,
                           group_id=run_id)
    now = time.time()
    step.state, step.audit_id, step.started_at = "running", entry_id, now
    db.session.get(RollingRun, run_id).heartbeat_at = now
    db.session.commit()
    return entry_id


def _act_and_wait(app: Flask, run_id: int, step_id: int, service: ServiceConfig,
                  action: str, cause: snapshot.Cause, settle: float) -> Outcome:
    """Send the action, wait for the unit to be active (``rolling_step_timeout``), then for
    ``settle`` seconds more in which it must not move; the settle is not part of the timeout,
    which bounds only the way up."""
    with app.app_context():
        rt = runtime()
        executor, host = rt.executor, rt.config.hosts[service.host]
        timeout = rt.config.settings.rolling_step_timeout
    try:
        result = run_action(executor, host, service, action)
    except RemoteError as exc:
        return Outcome(False, error=exc.code, message=exc.message)
    output = result.stdout + result.stderr
    if not result.ok:
        return Outcome(False, result.exit_code, "action_failed",
                       f"systemctl {action} {service.unit} exited {result.exit_code}", output)
    acted = time.monotonic()
    watch = _Watch(app, run_id, service, executor, host, cause)
    outcome, status = _wait_active(watch, action, timeout, result.exit_code, output)
    if not outcome.ok or settle <= 0:
        return outcome
    _with_app(app, lambda: _mark_settling(run_id, step_id, time.time() + settle))
    return _settle(watch, action, status, outcome, time.monotonic() + settle, acted)


class _Watch:
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
            try:
                snapshot.publish_statuses([self.service], statuses, observed, self.cause)
            except sa.exc.OperationalError:  # the monitor publishes it within seconds
                db.session.rollback()
        return statuses[self.service.unit]

    def pause(self, until: float | None = None) -> None:
        """Wait one poll interval (no later than monotonic ``until``), beating if due."""
        if time.monotonic() - self.beat >= HEARTBEAT_SECONDS:
            self.beat = time.monotonic()
            _with_app(self.app, lambda: _heartbeat(self.run_id))
        wait = POLL_SECONDS if until is None else min(POLL_SECONDS, until - time.monotonic())
        time.sleep(max(0.0, wait))


def _wait_active(watch: _Watch, action: str, timeout: float, exit_code: int,
                 output: str) -> tuple[Outcome, dict]:
    """Read the unit until it is active (ok) or failed, or ``timeout`` passed; also returns
    the last status read (what the settle compares with)."""
    unit = watch.service.unit
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = watch.read()
        except RemoteError as exc:
            return Outcome(False, exit_code, exc.code,
                           f"no status after {action}: {exc.message}", output), {}
        reached = _reached(status, unit, action, exit_code, output)
        if reached is not None:
            return reached, status
        if time.monotonic() >= deadline:
            state = status.get("state") or "unknown"
            return Outcome(False, exit_code, "not_active",
                           f"{unit} still {state} {timeout:g} s after {action}", output), status
        watch.pause()


def _reached(status: dict, unit: str, action: str, exit_code: int,
             output: str) -> Outcome | None:
    """The step's outcome once its unit is active (done) or failed; None while it moves."""
    state = status.get("state")
    if state == "active":
        return Outcome(True, exit_code, output=output, main_pid=status.get("main_pid") or None)
    if state == "failed":
        return Outcome(False, exit_code, "unit_failed",
                       f"{unit} failed after {action} "
                       f"(result {status.get('result') or 'unknown'})", output)
    return None


def _settle(watch: _Watch, action: str, first: dict, done: Outcome, until: float,
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
            return Outcome(False, done.exit_code, exc.code,
                           f"no status while {unit} settled: {exc.message}", done.output)
        change = _instability(status, first)
        if change is not None:
            what, details = change
            after = time.monotonic() - acted
            return Outcome(False, done.exit_code, "unit_unstable",
                           f"{unit} {what} {after:.1f} s after {action} ({', '.join(details)})",
                           done.output, main_pid=status.get("main_pid") or None)
        if time.monotonic() >= until:
            return done


# Still up: a reload keeps the main process (ActiveState "reloading" while it runs).
_UP_STATES = ("active", "reloading")


def _instability(now: dict, first: dict) -> tuple[str, list[str]] | None:
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


def _with_app(app: Flask, fn: Callable[[], None]) -> None:
    with app.app_context():
        fn()


def _heartbeat(run_id: int) -> None:
    try:
        db.session.get(RollingRun, run_id).heartbeat_at = time.time()
        db.session.commit()
    except sa.exc.OperationalError:
        db.session.rollback()


def _mark_settling(run_id: int, step_id: int, until: float) -> None:
    """Show the step settling (``settle_until``); a busy database only costs the display."""
    try:
        db.session.get(RollingStep, step_id).settle_until = until
        db.session.get(RollingRun, run_id).heartbeat_at = time.time()
        db.session.commit()
    except sa.exc.OperationalError:
        db.session.rollback()


def _finish_step(step_id: int, entry_id: int | None, outcome: Outcome) -> None:
    if entry_id is not None:
        audit.finish_reliably(entry_id, success=outcome.ok, exit_code=outcome.exit_code,
                              error=outcome.error, output=outcome.output or outcome.message)
    step = db.session.get(RollingStep, step_id)
    step.state = "ok" if outcome.ok else "failed"
    step.finished_at, step.exit_code, step.main_pid = time.time(), outcome.exit_code, \
        outcome.main_pid
    step.error, step.message = outcome.error, outcome.message
    db.session.commit()


def _finish_run(run_id: int, state: str, error: str | None, message: str) -> None:
    """End the run: skip every step not begun, close the group's audit entry."""
    run = db.session.get(RollingRun, run_id)
    steps = _steps(run_id)
    for step in steps:
        if step.state in ("pending", "running"):
            step.state = "skipped" if step.state == "pending" else "failed"
    run.state, run.error, run.message = state, error, message
    run.finished_at = run.heartbeat_at = time.time()
    db.session.commit()
    tally = ", ".join(f"{sum(1 for s in steps if s.state == k)} {k}"
                      for k in ("ok", "failed", "skipped"))
    if run.audit_id is not None:
        audit.finish_reliably(run.audit_id, success=state == "succeeded",
                              error=None if state == "succeeded" else error,
                              output=f"{state}: {tally}. {message}")
