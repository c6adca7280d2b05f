"""Background cleanup of terminal sessions: TTL, idle, dead ttyd, orphans, shutdown.

:func:`run_pass` is one pass (:mod:`recon.jobs.background` runs it every
``terminal_gc_seconds`` in every process; ``flask --app wsgi recon gc`` runs it by hand). It
is safe in several processes at once: each close is claimed by one ``UPDATE ... WHERE
closed_at IS NULL`` and only its winner signals ttyd, after checking the pid still is that
session's ttyd.

:func:`close_mine` closes this process's sessions at a clean exit.
"""

from __future__ import annotations

import logging
from collections import Counter

import sqlalchemy as sa

from recon.audit import store as audit
from recon.core import clock
from recon.core.process import process_alive, process_here, process_id
from recon.db.extensions import db
from recon.terminals import manager, ttyd
from recon.terminals.models import TerminalSession
from recon.web.slots import owner_alive

log = logging.getLogger("recon.terminals.gc")


def verdict(sess: TerminalSession, now: float, idle_seconds: float,
            start_timeout: float, *, remote_alive: bool = True) -> str | None:
    """Why ``sess`` must be closed at ``now`` (epoch seconds), or None to keep it. A session
    of another machine (a replica) is judged by its times only, its ttyd is not here -- and
    as an orphan once its process is gone (``remote_alive``: it stopped renewing its monitor
    membership), so a dead replica's terminals end with it."""
    if not process_here(sess.spawner):
        if not remote_alive:
            return "orphan"
        return "ttl" if now >= sess.expires_at else (
            "idle" if now - sess.last_activity_at >= idle_seconds else None)
    if not process_alive(sess.spawner):
        return "orphan"  # its dashboard process died (crash, kill -9): nobody owns its ttyd
    if sess.status == "starting":
        # Its creator is alive and still waiting for readiness; give it the start timeout.
        if now - sess.created_at < start_timeout + 5:
            return None
        return "process_exited"
    if not manager.process_ok(sess):
        return "process_exited"
    if now >= sess.expires_at:
        return "ttl"
    if now - sess.last_activity_at >= idle_seconds:
        return "idle"
    return None


def run_pass() -> Counter:
    """One cleanup pass in the current app context; returns closes by reason."""
    s = manager.settings()
    now = clock.now()
    closed: Counter = Counter()
    for sess in manager.open_sessions():
        remote_alive = process_here(sess.spawner) or owner_alive(sess.spawner)
        reason = verdict(sess, now, s.terminal_idle_seconds, s.terminal_start_timeout_seconds,
                         remote_alive=remote_alive)
        if reason is not None and manager.close(sess.id, reason):
            closed[reason] += 1
            audit.record("terminal.close", success=True, host=sess.host, actor="terminal-gc",
                         output=f"session {sess.id} of {sess.user}: {reason}")
    _end_closed_elsewhere()
    db.session.remove()
    if closed:
        log.info("terminal GC closed %s", dict(closed))
    return closed


def _end_closed_elsewhere() -> None:
    """End this process's ttyds whose sessions another machine's server closed (a replica
    cannot signal a process here): the close is in the database, the ttyd still runs."""
    mine = ttyd.children()
    if not mine:
        return
    for sess in db.session.scalars(sa.select(TerminalSession).where(
            TerminalSession.pid.in_(mine), TerminalSession.spawner == process_id(),
            TerminalSession.closed_at.is_not(None))):
        ttyd.terminate(sess.pid, sess.socket_path)


def close_mine(reason: str = "shutdown") -> int:
    """Close the sessions this process spawned (at a clean exit)."""
    me = process_id()
    ids = list(db.session.scalars(sa.select(TerminalSession.id).where(
        TerminalSession.closed_at.is_(None), TerminalSession.spawner == me)))
    n = sum(manager.close(sid, reason) for sid in ids)
    db.session.remove()
    return n

