"""Retention: drop rows older than their ``*_retention_*`` setting. ``flask --app wsgi recon
prune`` runs one pass; :mod:`recon.jobs.background` runs it every ``RETENTION_SECONDS`` in
every process. Safe in several processes at once (plain DELETEs with a cutoff)."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from recon.audit.models import AuditEntry
from recon.auth.models import LoginFailure, LoginSession
from recon.core import clock
from recon.db.extensions import db
from recon.notify.models import NotifyDelivery
from recon.recordings import store as recordings
from recon.rolling.models import RollingRun, RollingStep
from recon.terminals.models import TerminalSession
from recon.web import slots
from recon.web.context import runtime

HOUR, DAY = 3600.0, 86400.0  # in seconds, as the stored times


def run_prune(now: float | None = None) -> Counter:
    """One pass in the current app context, as at ``now`` (epoch seconds, like every stored
    time); returns deleted rows per kind."""
    s = runtime().config.settings
    now = clock.now() if now is None else now
    done: Counter = Counter()

    def delete(kind: str, stmt) -> None:
        done[kind] += db.session.execute(stmt.execution_options(
            synchronize_session=False)).rowcount or 0

    delete("login_failures", sa.delete(LoginFailure).where(
        LoginFailure.last_at < now - s.login_failure_retention_hours * HOUR))
    delete("audit", sa.delete(AuditEntry).where(
        AuditEntry.at < now - s.audit_retention_days * DAY))
    session_cut = now - s.session_retention_days * DAY
    delete("sessions", sa.delete(LoginSession).where(sa.or_(
        LoginSession.expires_at < session_cut,
        sa.and_(LoginSession.revoked_at.is_not(None), LoginSession.revoked_at < session_cut))))
    delete("terminals", sa.delete(TerminalSession).where(
        TerminalSession.closed_at.is_not(None),
        TerminalSession.closed_at < now - s.terminal_retention_days * DAY))
    # Rolling actions are kept as long as the audit entries that point at them.
    old_runs = sa.select(RollingRun.id).where(
        RollingRun.finished_at.is_not(None),
        RollingRun.finished_at < now - s.audit_retention_days * DAY)
    delete("rolling_steps", sa.delete(RollingStep).where(RollingStep.run_id.in_(old_runs)))
    delete("rolling_actions", sa.delete(RollingRun).where(RollingRun.id.in_(old_runs)))
    delete("notifications", sa.delete(NotifyDelivery).where(
        NotifyDelivery.status != "pending",
        NotifyDelivery.created_at < now - s.notify_retention_days * DAY))
    db.session.commit()
    # Recordings of sessions still open stay, however old their last write.
    done["recordings"] += recordings.prune(now, set(db.session.scalars(
        sa.select(TerminalSession.id).where(TerminalSession.closed_at.is_(None)))))
    done["held_slots"] += slots.prune_dead()
    return done
