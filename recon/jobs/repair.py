"""Background repairs after a dashboard process died mid-work, run by the monitor's leader
(and callable from tests): they join what the stores must not know about each other."""

from __future__ import annotations

from datetime import UTC, datetime

from recon.audit import store as audit
from recon.rolling import runner as rolling
from recon.web.context import runtime


def close_interrupted(now: datetime | None = None) -> int:
    """Work whose process died ends as ``interrupted``: rolling actions whose runner went
    silent, then audit entries of actions that can no longer be running (a rolling action's
    stay open while its runner keeps its heartbeat). Returns how many audit entries closed."""
    now = now or datetime.now(UTC)
    config = runtime().config
    rolling.finish_stale_runs(config, now.timestamp())
    live = rolling.live_run_ids(config, now.timestamp())
    return audit.close_interrupted(now, live_groups=live)
