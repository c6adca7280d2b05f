"""``GET /api/changes``: what changed across the fleet lately (the monitor's recorded events),
newest first — "what happened overnight" in one list."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import jsonify

from recon.db.extensions import db
from recon.monitor.models import MonitorEvent
from recon.services.routes import bp
from recon.web.params import int_arg


@bp.get("/api/changes")
def fleet_changes():
    """Unit and host events of the last ``hours`` (1-168, default 24), at most ``limit``.
    A host event that left the host's state as it was (its unit signals attached, its error
    code changed while down) tells the live page something but is no change: left out."""
    hours = int_arg("hours", 24, 1, 168)
    limit = int_arg("limit", 200, 1, 1000)
    since = time.time() - hours * 3600
    changed = sa.or_(MonitorEvent.kind != "host", MonitorEvent.from_state.is_(None),
                     MonitorEvent.from_state != MonitorEvent.to_state)
    rows = db.session.scalars(
        sa.select(MonitorEvent).where(MonitorEvent.at >= since, changed)
        .order_by(MonitorEvent.id.desc()).limit(limit + 1)).all()
    return jsonify({"hours": hours, "truncated": len(rows) > limit,
                    "events": [e.to_dict(payload=False) for e in rows[:limit]]})
