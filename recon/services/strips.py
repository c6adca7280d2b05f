"""``GET /api/history/strips``: every service's and host's history at a glance -- a strip of
the last ``hours`` (one letter per bucket, :mod:`recon.monitor.strips`) and availability over
24 h, 7 d and 30 d -- in one call for the whole fleet, so the dashboard does not ask once per
row. ``?service=<slug>`` narrows it to one service and its host (the unit page).

The fleet's answer is computed from two queries over the event log and kept for
``CACHE_SECONDS`` per process: many open dashboards cost one computation.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import jsonify, request

from recon.core import clock
from recon.monitor import strips
from recon.monitor.snapshot import stopped_ok
from recon.services.routes import bp
from recon.web.context import get_service, runtime
from recon.web.params import int_arg

CACHE_SECONDS = 30.0
_cache: dict[tuple, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def _compute(services: dict[str, Any], hosts: list[str], hours: int, buckets: int,
             now: float) -> dict[str, Any]:
    current = strips.current_statuses(services)
    idle_ok = {slug: bool(stopped_ok(svc, current.get(slug, {})))
               for slug, svc in services.items()}
    body = strips.fleet_strips(services, hosts, idle_ok, now=now, hours=hours,
                               buckets=buckets)
    return {"start": clock.iso(now - hours * 3600), "end": clock.iso(now), "hours": hours,
            "buckets": buckets, "bucket_seconds": hours * 3600 / buckets,
            "codes": strips.WORST_FIRST, **body}


@bp.get("/api/history/strips")
def history_strips():
    """Strips and availability of every service and host (see the module's docstring)."""
    hours = int_arg("hours", 24, 1, 168)
    buckets = int_arg("buckets", 48, 12, 288)
    config, now = runtime().config, time.time()
    slug = request.args.get("service")
    if slug is not None:  # one service: not cached, it is one service's events
        service = get_service(slug)
        return jsonify(_compute({service.slug: service}, [service.host], hours, buckets, now))
    key = (id(config), hours, buckets)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return jsonify(hit[1])
    body = _compute(dict(config.services), list(config.hosts), hours, buckets, now)
    with _lock:
        _cache.clear()  # one entry per process: the newest config and parameters
        _cache[key] = (now, body)
    return jsonify(body)
