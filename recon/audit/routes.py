"""``GET /api/audit``: the audit trail for admins, filtered (writing it: :mod:`.store`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from recon.audit.models import AuditEntry
from recon.db import ids
from recon.db.extensions import db
from recon.web.params import int_arg, time_arg
from recon.web.policy import require_role

bp = Blueprint("audit", __name__)


@bp.get("/api/audit")
@require_role("admin")
def list_audit():
    """Newest first; filter by ``service``, ``actor``, ``action``, ``group`` (a rolling
    action's id), ``since``, ``until``."""
    limit = int_arg("limit", 100, 1, 1000)
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    for name in ("service", "actor", "action"):
        value = request.args.get(name)
        if value is not None:
            query = query.where(getattr(AuditEntry, name) == value)
    if request.args.get("group") is not None:
        group = int_arg("group", 1, 1, 2**62)
        query = query.where(AuditEntry.group_id == group if ids.can_exist(group)
                            else sa.false())
    since, until = time_arg("since"), time_arg("until")
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at <= until)
    entries = db.session.scalars(query).all()
    return jsonify({"entries": [e.to_dict() for e in entries]})
