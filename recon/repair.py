"""Background repairs after a dashboard process died mid-work, run by the monitor's leader
(and callable from tests): they join what the stores must not know about each other."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from . import audit
from .rolling import runner as rolling


def close_interrupted(now: datetime | None = None) -> int:
    """Audit entries of actions whose process died are closed as ``interrupted``; a rolling
    action's stay open while its runner keeps its heartbeat. Returns how many were closed."""
    now = now or datetime.now(UTC)
    live = rolling.live_run_ids(current_app.config["RECON"], now.timestamp())
    return audit.close_interrupted(now, live_groups=live)
