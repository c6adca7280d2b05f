"""``GET /api/services/<slug>/logs``: recent journal lines of one service."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..errors import ApiError
from ..runtime import get_service
from .journal import read_lines

bp = Blueprint("logs", __name__)
MAX_LINES = 5000


@bp.get("/api/services/<slug>/logs")
def service_logs(slug: str):
    """The last ``lines`` (default 100, at most 5000) journal lines of a service."""
    service = get_service(slug)
    if "logs" not in service.actions:
        raise ApiError(403, "action_not_allowed", f"logs are not allowed for {slug}",
                       "Add `logs` to the service's actions in recon.toml.")
    raw = request.args.get("lines", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LINES:
        raise ApiError(400, "invalid_parameter", f"lines must be an integer 1-{MAX_LINES}",
                       "Pass e.g. ?lines=100.", parameter="lines")
    return jsonify({"service": slug, "lines": read_lines(service, int(raw))})
