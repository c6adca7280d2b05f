"""The runner of a rolling action: one background thread per run, in the worker that took it.

Steps run in order: hosts in batches (``batch_hosts`` at once, 1 by default, with
``pause_seconds`` between batches), a host's services in sequence. For each step the
runner checks the cancel flag, then runs the audited action of :mod:`recon.services.act` (a
host the monitor saw down is refused; the step's audit entry is written before the action is
sent) and, before that entry is closed, reads the unit until it is active again (or failed, or
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
from functools import partial

import sqlalchemy as sa
from flask import Flask

from recon.audit import store as audit
from recon.config import ServiceConfig
from recon.db.extensions import db
from recon.monitor import snapshot
from recon.rolling.models import RollingRun, RollingStep
from recon.rolling.settle import (
    HEARTBEAT_SECONDS,
    Watch,
    settle_step,
    wait_active,
    wait_healthy,
    with_app,
)
from recon.services import act
from recon.services.act import Outcome
from recon.web.context import runtime

log = logging.getLogger("recon.rolling")


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
    """The run's hosts in batches of ``batch_hosts`` (1: one at a time), each host's
    services in sequence; the hosts of a batch side by side, ``pause_seconds`` between
    batches. A failure ends the run once its batch is done; a cancel lets running steps end."""
    with app.app_context():
        run = db.session.get(RollingRun, run_id)
        action, actor = run.action, run.actor
        settle = run.settle_seconds or 0.0  # None: stored before settling existed
        batch, pause = run.batch_hosts or 1, run.pause_seconds or 0.0
        steps = [(s.id, s.service, s.host) for s in _steps(run_id)]
    by_host: dict[str, list[tuple[int, str]]] = {}
    for step_id, slug, host in steps:
        by_host.setdefault(host, []).append((step_id, slug))
    hosts = list(by_host)
    for first in range(0, len(hosts), batch):
        if first and pause and _pause(app, run_id, pause):
            break  # cancelled during the pause
        group = hosts[first:first + batch]
        failures: list[str] = []
        threads = [threading.Thread(
            target=_host_steps, args=(app, run_id, by_host[h], action, actor, settle, failures),
            daemon=True, name=f"recon-rolling-{run_id}-{h}") for h in group[1:]]
        for t in threads:
            t.start()
        _host_steps(app, run_id, by_host[group[0]], action, actor, settle, failures)
        for t in threads:
            t.join()
        with app.app_context():
            if failures:
                error, message = failures[0].split(":", 1)
                _finish_run(run_id, "failed", error, f"{message}; the rest was skipped")
                return
            run = db.session.get(RollingRun, run_id)
            if run.cancel_requested and first + batch < len(hosts):
                _finish_run(run_id, "cancelled", "cancelled",
                            f"cancelled by {run.cancelled_by}; the rest was skipped")
                return
    with app.app_context():
        run = db.session.get(RollingRun, run_id)
        if run.state != "running":
            return
        if run.cancel_requested and any(s.state == "pending" for s in _steps(run_id)):
            _finish_run(run_id, "cancelled", "cancelled",
                        f"cancelled by {run.cancelled_by}; the rest was skipped")
            return
        # A cancel that came during the last step changed nothing: every step ran.
        _finish_run(run_id, "succeeded", None,
                    "every step done" + (" (the cancel came after the last step began)"
                                         if run.cancel_requested else ""))


def _host_steps(app: Flask, run_id: int, steps: list[tuple[int, str]], action: str,
                actor: str, settle: float, failures: list[str]) -> None:
    """One host's steps in sequence; stops at a cancel or at any failure in the batch
    (``failures``, shared by the batch's hosts: ``"error:message"``)."""
    for step_id, slug in steps:
        with app.app_context():
            run = db.session.get(RollingRun, run_id)
            if run.cancel_requested or failures:
                return
            service = runtime().config.services[slug]
        # The audited action (refused when the host is down); between sending and closing
        # its entry the step waits for the unit and watches it settle.
        outcome = act.act(
            service, action, actor=actor, group_id=run_id, context=app.app_context,
            begun=partial(_mark_running, run_id, step_id),
            after=partial(_wait_until_settled, app, run_id, step_id, service, action, settle))
        with app.app_context():
            _finish_step(step_id, outcome)
        if not outcome.ok:
            failures.append(f"{outcome.error}:{slug} on {service.host}: {outcome.message}")
            return


def _pause(app: Flask, run_id: int, seconds: float) -> bool:
    """Wait between batches, beating the run's heartbeat; True when a cancel came."""
    until = time.monotonic() + seconds
    while True:
        with app.app_context():
            run = db.session.get(RollingRun, run_id)
            if run.cancel_requested:
                _finish_run(run_id, "cancelled", "cancelled",
                            f"cancelled by {run.cancelled_by} during the pause between "
                            "hosts; the rest was skipped")
                return True
            run.heartbeat_at = time.time()
            db.session.commit()
        left = until - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(1.0, left))


def _steps(run_id: int) -> list[RollingStep]:
    return list(db.session.scalars(sa.select(RollingStep).where(RollingStep.run_id == run_id)
                                   .order_by(RollingStep.position)))


def _mark_running(run_id: int, step_id: int, entry_id: int) -> None:
    """The step is running under audit entry ``entry_id`` (committed with the entry, before
    the action is sent)."""
    now = time.time()
    step = db.session.get(RollingStep, step_id)
    step.state, step.audit_id, step.started_at = "running", entry_id, now
    db.session.get(RollingRun, run_id).heartbeat_at = now


def _wait_until_settled(app: Flask, run_id: int, step_id: int, service: ServiceConfig,
                        action: str, settle: float, sent: Outcome,
                        cause: snapshot.Cause) -> Outcome:
    """Once the action ``sent`` succeeded: wait for the unit to be active
    (``rolling_step_timeout``), then for ``settle`` seconds more in which it must not move;
    the settle is not part of the timeout, which bounds only the way up."""
    if not sent.ok:
        return sent
    acted, acted_at = time.monotonic(), time.time()
    with app.app_context():
        rt = runtime()
        executor, host = rt.executor, rt.config.hosts[service.host]
        timeout = rt.config.settings.rolling_step_timeout
    watch = Watch(app, run_id, service, executor, host, cause)
    outcome, status = wait_active(watch, action, timeout, sent)
    if outcome.ok and settle > 0:
        with_app(app, lambda: _mark_settling(run_id, step_id, time.time() + settle))
        outcome = settle_step(watch, action, status, outcome, time.monotonic() + settle, acted)
    if outcome.ok and service.health is not None:
        # Up and steady is not yet serving: the next host waits for the check to pass.
        outcome = wait_healthy(watch, action, outcome, acted_at, timeout)
    return outcome


def _mark_settling(run_id: int, step_id: int, until: float) -> None:
    """Show the step settling (``settle_until``); a busy database only costs the display."""
    try:
        db.session.get(RollingStep, step_id).settle_until = until
        db.session.get(RollingRun, run_id).heartbeat_at = time.time()
        db.session.commit()
    except sa.exc.OperationalError:
        db.session.rollback()


def _finish_step(step_id: int, outcome: Outcome) -> None:
    """Record how the step ended (its audit entry is closed already)."""
    step = db.session.get(RollingStep, step_id)
    if outcome.refused:  # its host was down: the refusal is the step's audit entry
        step.audit_id, step.started_at = outcome.audit_id, time.time()
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
