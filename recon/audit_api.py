"""``GET /api/audit``: the audit trail for admins, filtered (the store is :mod:`recon.audit`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from .auth import require_role
from .errors import ApiError
from .extensions import db
from .models import AuditEntry

bp = Blueprint("audit", __name__)


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        raise ApiError(400, "invalid_parameter", f"{name} must be an integer {lo}-{hi}",
                       f"Pass e.g. ?{name}={default}.", parameter=name)
    return value


def _time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{name} must be an ISO 8601 time",
                       f"Pass e.g. ?{name}=2026-11-22T10:00:00Z.", parameter=name) from None


@bp.get("/api/audit")
@require_role("admin")
def list_audit():
    """Newest first; filter by ``service``, ``actor``, ``action``, ``group`` (a rolling
    action's id), ``since``, ``until``."""
    limit = _int_arg("limit", 100, 1, 1000)
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    for name in ("service", "actor", "action"):
        value = request.args.get(name)
        if value is not None:
            query = query.where(getattr(AuditEntry, name) == value)
    if request.args.get("group") is not None:
        query = query.where(AuditEntry.group_id == _int_arg("group", 1, 1, 2**62))
    since, until = _time_arg("since"), _time_arg("until")
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at <= until)
    entries = db.session.scalars(query).all()
    return jsonify({"entries": [e.to_dict() for e in entries]})
