"""The audit trail: who did what, when, to which service — written before the response.

The store only; ``GET /api/audit`` is in :mod:`recon.audit.routes`."""

from __future__ import annotations

import getpass
import logging
import threading
import time

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request

from recon.audit.models import AuditEntry
from recon.core import clock
from recon.db.extensions import db
from recon.web.context import runtime

log = logging.getLogger("recon.audit.store")
# How long a request keeps retrying to record an action's outcome in a locked database
# before a background thread takes over (the action ran: its outcome must not be lost).
FINISH_RETRY_SECONDS = 8.0


def current_actor() -> str:
    """The user (or token) behind this request; the OS user for CLI commands."""
    if not has_request_context():
        return f"cli:{getpass.getuser()}"
    return getattr(g, "actor", None) or f"anonymous@{request.remote_addr}"


def _clip(output: str | None) -> str | None:
    return (output or "")[:runtime().config.settings.audit_output_bytes] or None


def record(action: str, *, success: bool | None, service: str | None = None,
           host: str | None = None, exit_code: int | None = None, duration_ms: float | None = None,
           error: str | None = None, output: str | None = None,
           actor: str | None = None, group_id: int | None = None) -> AuditEntry:
    """Write one audit entry and commit it now, so it exists even if the response fails."""
    entry = AuditEntry(
        actor=actor or current_actor(),
        remote_addr=request.remote_addr if has_request_context() else None, action=action,
        service=service, host=host, success=success, exit_code=exit_code,
        duration_ms=duration_ms, error=error,
        output=_clip(output), group_id=group_id,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def record_aggregate(action: str, *, error: str, since: float, at: float,
                     output: str) -> AuditEntry:
    """One row for a run of like refusals from this request's source since ``since``:
    created by the first, its ``output`` (and ``duration_ms``, the time it spans) replaced
    by each later one; committed. The caller serializes the calls (holds SQLite's write
    lock), so two of them cannot both create it."""
    addr = request.remote_addr if has_request_context() else None
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == action, AuditEntry.error == error,
                                    AuditEntry.remote_addr == addr, AuditEntry.at >= since)
        .order_by(AuditEntry.id.desc()).limit(1))
    if entry is None:
        entry = AuditEntry(actor=current_actor(), remote_addr=addr, action=action,
                           success=False, error=error, at=at)
        db.session.add(entry)
    entry.output = output  # short, and its count must survive audit_output_bytes
    entry.duration_ms = round((at - entry.at) * 1000, 1)
    db.session.commit()
    return entry


def begin(action: str, *, service: str | None = None, host: str | None = None,
          actor: str | None = None, group_id: int | None = None) -> int:
    """Record an action as started (success unknown) before it is sent; returns its id."""
    return record(action, success=None, service=service, host=host, actor=actor,
                  group_id=group_id).id


def finish(entry_id: int, *, success: bool, exit_code: int | None = None,
           duration_ms: float | None = None, error: str | None = None,
           output: str | None = None) -> None:
    """Complete a started entry with its outcome, committed before the response."""
    entry = db.session.get(AuditEntry, entry_id)
    entry.success, entry.exit_code, entry.duration_ms = success, exit_code, duration_ms
    entry.error, entry.output = error, _clip(output)
    db.session.commit()


def finish_reliably(entry_id: int, **outcome) -> str:
    """:func:`finish`, retried while the database is locked; "recorded", or "deferred" when a
    background thread keeps trying (the entry then stays pending until it succeeds)."""
    deadline = time.monotonic() + FINISH_RETRY_SECONDS
    delay = 0.05
    while True:
        try:
            finish(entry_id, **outcome)
            return "recorded"
        except sa.exc.OperationalError:
            db.session.rollback()
            if time.monotonic() + delay >= deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    app = current_app._get_current_object()
    threading.Thread(target=_finish_later, args=(app, entry_id, outcome), daemon=True,
                     name=f"recon-audit-{entry_id}").start()
    return "deferred"


def _finish_later(app, entry_id: int, outcome: dict) -> None:
    for attempt in range(600):
        try:
            with app.app_context():
                finish(entry_id, **outcome)
            return
        except sa.exc.OperationalError:
            time.sleep(min(1.0 + attempt, 10.0))
    log.error("audit entry %s: outcome could not be recorded: %s", entry_id, outcome)


def longest_action_seconds(config) -> float:
    """The longest one remote command can take: connect (twice: one reconnect) + the
    command + the remote kill grace + slack, on the slowest host."""
    return max((h.connect_timeout * 2 + h.command_timeout + 5
                for h in config.hosts.values()), default=60)


def close_interrupted(now: float | None = None, *,
                      live_groups: sa.Select | None = None) -> int:
    """Mark started entries that can no longer be running as failed ("interrupted"): their
    dashboard process died mid-action. Safe from any process: it only touches entries older
    than the longest possible action before ``now`` (epoch seconds). Entries of a group in
    ``live_groups`` (ids of runs still going, e.g. rolling actions whose runner beats) stay
    open."""
    longest = longest_action_seconds(runtime().config)
    cutoff = (clock.now() if now is None else now) - longest
    open_group = AuditEntry.group_id.is_(None)
    if live_groups is not None:
        open_group = sa.or_(open_group, AuditEntry.group_id.not_in(live_groups))
    result = db.session.execute(
        sa.update(AuditEntry)
        .where(AuditEntry.success.is_(None), AuditEntry.at < cutoff, open_group)
        .values(success=False, error="interrupted")
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount
