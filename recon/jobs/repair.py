"""Background repairs after a dashboard process died mid-work, run by the monitor's leader
(and callable from tests): they join what the stores must not know about each other."""

from __future__ import annotations

from recon.audit import store as audit
from recon.core import clock
from recon.rolling import runner as rolling
from recon.web.context import runtime


def close_interrupted(now: float | None = None) -> int:
    """Work whose process died ends as ``interrupted``: rolling actions whose runner went
    silent, then audit entries of actions that can no longer be running (a rolling action's
    stay open while its runner keeps its heartbeat). ``now``: epoch seconds. Returns how many
    audit entries closed."""
    now = clock.now() if now is None else now
    config = runtime().config
    rolling.finish_stale_runs(config, now)
    live = rolling.live_run_ids(config, now)
    return audit.close_interrupted(now, live_groups=live)
