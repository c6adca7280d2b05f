"""Background cleanup of terminal sessions: TTL, idle, dead ttyd, orphans, shutdown.

:func:`run_pass` is one pass (the GC thread runs it every ``terminal_gc_seconds``;
``flask --app wsgi recon gc`` runs it by hand). It is safe in several processes at once:
each close is claimed by one ``UPDATE ... WHERE closed_at IS NULL`` and only its winner
signals ttyd, after checking the pid still is that session's ttyd.

:func:`start` is called by the WSGI entry point, once per process, never by the factory.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from .. import audit
from ..extensions import db
from ..prune import PRUNE_EVERY, run_prune
from . import manager, ttyd
from .models import TerminalSession, aware, utcnow

log = logging.getLogger("recon.terminals.gc")


def verdict(sess: TerminalSession, now: datetime, idle_seconds: float,
            start_timeout: float) -> str | None:
    """Why ``sess`` must be closed now, or None to keep it."""
    if not ttyd.process_alive(sess.spawner):
        return "orphan"  # its dashboard process died (crash, kill -9): nobody owns its ttyd
    started = aware(sess.created_at)
    if sess.status == "starting":
        # Its creator is alive and still waiting for readiness; give it the start timeout.
        if now - started < timedelta(seconds=start_timeout + 5):
            return None
        return "process_exited"
    if not manager.process_ok(sess):
        return "process_exited"
    if now >= aware(sess.expires_at):
        return "ttl"
    if now - aware(sess.last_activity_at) >= timedelta(seconds=idle_seconds):
        return "idle"
    return None


def run_pass() -> Counter:
    """One cleanup pass in the current app context; returns closes by reason."""
    s = manager.settings()
    now = utcnow()
    closed: Counter = Counter()
    for sess in manager.open_sessions():
        reason = verdict(sess, now, s.terminal_idle_seconds, s.terminal_start_timeout_seconds)
        if reason is not None and manager.close(sess.id, reason):
            closed[reason] += 1
            audit.record("terminal.close", success=True, host=sess.host, actor="terminal-gc",
                         output=f"session {sess.id} of {sess.user}: {reason}")
    db.session.remove()
    if closed:
        log.info("terminal GC closed %s", dict(closed))
    return closed


def close_mine(reason: str = "shutdown") -> int:
    """Close the sessions this process spawned (at a clean exit)."""
    me = ttyd.process_id()
    ids = list(db.session.scalars(sa.select(TerminalSession.id).where(
        TerminalSession.closed_at.is_(None), TerminalSession.spawner == me)))
    n = sum(manager.close(sid, reason) for sid in ids)
    db.session.remove()
    return n


class Collector:
    """The GC thread of one process."""
    def __init__(self, app: Flask):
        self.app = app
        self.stop_event = threading.Event()
        self.last_prune = 0.0
        self.thread = threading.Thread(target=self._loop, name="recon-terminal-gc", daemon=True)

    def _loop(self) -> None:
        # The first pass runs at once: it reconciles what a previous run left open.
        while True:
            try:
                with self.app.app_context():
                    run_pass()
            except Exception:
                log.exception("terminal GC pass failed")
            self.maybe_prune()
            with self.app.app_context():
                interval = manager.settings().terminal_gc_seconds
            if self.stop_event.wait(max(0.05, interval)):
                return

    def maybe_prune(self) -> None:
        """Retention pruning (recon.prune), at most every PRUNE_EVERY seconds."""
        if time.monotonic() - self.last_prune < PRUNE_EVERY and self.last_prune:
            return
        self.last_prune = time.monotonic()
        try:
            with self.app.app_context():
                done = run_prune()
                db.session.remove()
            if sum(done.values()):
                log.info("pruned %s", dict(done))
        except Exception:
            log.exception("pruning failed")

    def stop(self) -> None:
        """Stop the loop and close this process's sessions as ``shutdown``."""
        self.stop_event.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)
        try:
            with self.app.app_context():
                close_mine("shutdown")
        except Exception:
            log.exception("closing terminals at shutdown failed")


_collectors: dict[tuple[int, int], Collector] = {}
_lock = threading.Lock()


def start(app: Flask) -> Collector:
    """Start the GC thread for ``app`` once in this process (a forked child starts its own)."""
    key = (os.getpid(), id(app))
    with _lock:
        collector = _collectors.get(key)
        if collector is None:
            collector = _collectors[key] = Collector(app)
            collector.thread.start()
            atexit.register(collector.stop)
    return collector
