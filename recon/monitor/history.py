"""The monitor's event log: each service's history, the events after an id (the live
stream's replay and fan-out, the notifier), and its pruning."""

from __future__ import annotations

import time

import sqlalchemy as sa

from recon.db import ids
from recon.db.extensions import db
from recon.monitor.models import MonitorEvent


def history(slug: str, *, limit: int = 50, before: int | None = None) -> list[MonitorEvent]:
    """A service's recorded changes, newest first."""
    query = (sa.select(MonitorEvent).where(MonitorEvent.service == slug)
             .order_by(MonitorEvent.id.desc()).limit(limit))
    if before is not None:
        query = query.where(MonitorEvent.id <= ids.bounded(before - 1))
    return list(db.session.scalars(query))


def events_after(last_id: int, limit: int = 500) -> list[MonitorEvent]:
    """Events newer than ``last_id``, oldest first."""
    return list(db.session.scalars(
        sa.select(MonitorEvent).where(MonitorEvent.id > ids.bounded(last_id))
        .order_by(MonitorEvent.id).limit(limit)))


def event_bounds() -> tuple[int, int]:
    """The oldest and newest event ids kept (0, 0 when there are none)."""
    low, high = db.session.execute(
        sa.select(sa.func.min(MonitorEvent.id), sa.func.max(MonitorEvent.id))).one()
    return low or 0, high or 0


def prune(*, keep_seconds: float, keep_events: int, now: float | None = None) -> int:
    """Drop events past the retention age or beyond the newest ``keep_events``."""
    now = time.time() if now is None else now
    _, newest = event_bounds()
    result = db.session.execute(
        sa.delete(MonitorEvent).where(sa.or_(MonitorEvent.at < now - keep_seconds,
                                             MonitorEvent.id <= newest - keep_events)))
    db.session.commit()
    return result.rowcount
