"""The background read of unit lists: each process reads the hosts it watches.

The monitor already shares the hosts among the serving processes (:mod:`recon.monitor.sharing`:
a host is watched by the process holding its lease); the unit lists follow the same split, so
each host is listed by one process, over the connection its monitor keeps open anyway. A pass
runs every few seconds and reads the hosts whose last attempt is ``host_units_seconds`` old
(so a host just taken over, or just refreshed by a user, is read at the right time). A host in
back-off fails at once (the executor's breaker) and a slow one within its command timeout, a
few at a time: no host holds up the others.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from recon.core.errors import ReconError
from recon.hosts import store
from recon.web.context import runtime

log = logging.getLogger("recon.hosts")
TICK_SECONDS = 5.0  # how often a pass looks for due hosts (at most the setting)
PASS_WORKERS = 4  # hosts read at once by one process


def watched_hosts(app: Flask) -> list[str]:
    """The hosts this process's monitor watches now (none without a monitor: the CLI)."""
    monitor = app.extensions.get("recon.monitor")
    # list() of a dict is one step under the GIL: safe while the monitor thread changes it.
    return sorted(list(monitor.supervisors)) if monitor is not None else []


def interval(app: Flask) -> float:
    """Seconds between two passes of this process."""
    return min(TICK_SECONDS, runtime(app).config.settings.host_units_seconds)


def due_hosts(app: Flask, now: float | None = None) -> list[str]:
    """The watched hosts whose last attempt is at least ``host_units_seconds`` old."""
    rt = runtime(app)
    now = time.time() if now is None else now
    every = rt.config.settings.host_units_seconds
    tried = store.tried_times()
    return [h for h in watched_hosts(app)
            if h in rt.config.hosts and now - tried.get(h, 0.0) >= every]


def _read(app: Flask, name: str) -> bool:
    with app.app_context():
        rt = runtime(app)
        host = rt.config.hosts.get(name)
        if host is None:
            return False
        try:
            store.refresh(rt.executor, host)
            return True
        except ReconError as exc:  # stored with the list; the page says it
            log.info("host units: %s not read: %s: %s", name, exc.code, exc.message)
            return False


def run_pass(app: Flask) -> int:
    """Read every due host (a few at once); how many were read."""
    due = due_hosts(app)
    if not due:
        return 0
    with ThreadPoolExecutor(max_workers=min(PASS_WORKERS, len(due)),
                            thread_name_prefix="recon-host-units") as pool:
        return sum(pool.map(lambda name: _read(app, name), due))
