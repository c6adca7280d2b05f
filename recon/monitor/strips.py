"""History at a glance: each service's (and host's) recorded events turned into a strip of
the last hours -- one letter per bucket -- and its availability over 24 h, 7 d and 30 d.

Pure functions over (time, code) change points (:func:`strip`, :func:`availability`), and one
batched read of the event log for the whole fleet (:func:`fleet_strips`): two queries, however
many services, so the dashboard draws every row's strip from one call.

Codes, worst first (a bucket shows the worst state it held, so a 30-minute bucket with a
one-minute failure shows the failure):

=====  ======================================================  ==============
code   state                                                    available?
=====  ======================================================  ==============
``u``  unreachable (its host was down)                          no
``l``  crash-looping                                            no
``f``  failed                                                   no
``d``  host degraded (status reads failed; host strips only)    no
``s``  stopped, not by design                                   no
``c``  changing (activating, deactivating, reloading)           yes
``i``  idle: inactive by design (timer, oneshot, expect)        yes
``r``  running (a host: reachable)                              yes
``-``  no data (before the first record, or pruned)             not counted
=====  ======================================================  ==============
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from recon.db.extensions import db
from recon.monitor.models import MonitorEvent, UnitState

WORST_FIRST = "ulfdscir-"
BAD = frozenset("ulfds")
NO_DATA = "-"
DAY = 86400.0
WINDOWS = {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY}

Points = list[tuple[float, str]]  # (since when, code), in time order


def unit_code(to_state: str | None, crash_looping: Any, idle_ok: bool) -> str:
    """The strip's code of a unit event."""
    if crash_looping:
        return "l"
    if to_state == "active":
        return "r"
    if to_state == "failed":
        return "f"
    if to_state == "inactive":
        return "i" if idle_ok else "s"
    if to_state in ("activating", "deactivating", "reloading"):
        return "c"
    return NO_DATA


def host_code(to_state: str | None) -> str:
    """The strip's code of a host event."""
    return {"up": "r", "degraded": "d", "down": "u"}.get(to_state or "", NO_DATA)


def code_at(points: Points, t: float) -> str:
    """The code in force at ``t`` (no data before the first point)."""
    code = NO_DATA
    for at, c in points:
        if at > t:
            break
        code = c
    return code


def overlay(unit: Points, host: Points) -> Points:
    """A service's points with its host's downtime on top: while the host is down the
    service is unreachable, whatever it was last seen as. One merge pass over both."""
    out: Points = []
    i = j = 0
    u = h = NO_DATA
    while i < len(unit) or j < len(host):
        t = min(unit[i][0] if i < len(unit) else float("inf"),
                host[j][0] if j < len(host) else float("inf"))
        while i < len(unit) and unit[i][0] == t:
            u = unit[i][1]
            i += 1
        while j < len(host) and host[j][0] == t:
            h = host[j][1]
            j += 1
        code = "u" if h == "u" else u
        if not out or out[-1][1] != code:
            out.append((t, code))
    return out


def _segments(points: Points, start: float, end: float) -> Iterable[tuple[float, float, str]]:
    """(from, to, code) pieces covering ``start..end``."""
    code = code_at(points, start)
    at = start
    for t, c in points:
        if t <= start:
            continue
        if t >= end:
            break
        yield at, t, code
        at, code = t, c
    yield at, end, code


def strip(points: Points, start: float, end: float, buckets: int) -> str:
    """One letter per bucket of ``start..end``: the worst code the bucket held."""
    width = (end - start) / buckets
    worst = [len(WORST_FIRST) - 1] * buckets
    for a, b, code in _segments(points, start, end):
        rank = WORST_FIRST.index(code)
        first, last = int((a - start) // width), min(buckets - 1, int((b - start - 1e-9) // width))
        for i in range(max(first, 0), last + 1):
            worst[i] = min(worst[i], rank)
    return "".join(WORST_FIRST[r] for r in worst)


def availability(points: Points, start: float, end: float) -> float | None:
    """The share of the known time of ``start..end`` spent in an available state (None when
    nothing is known of it)."""
    known = good = 0.0
    for a, b, code in _segments(points, start, end):
        if code == NO_DATA:
            continue
        known += b - a
        if code not in BAD:
            good += b - a
    return round(good / known, 5) if known > 0 else None


def summary(points: Points, start: float, end: float, buckets: int) -> dict[str, Any]:
    """A strip of ``start..end`` and the availability over every window ending at ``end``."""
    return {"strip": strip(points, start, end, buckets),
            "availability": {k: availability(points, end - w, end) for k, w in WINDOWS.items()}}


# -- the batched read -----------------------------------------------------------------------

def _points(rows: Sequence[Any], key, code) -> dict[str, Points]:
    out: dict[str, Points] = {}
    for row in rows:
        points = out.setdefault(key(row), [])
        c = code(row)
        if not points or points[-1][1] != c:
            points.append((row.at, c))
    return out


def _json_flag(column, key: str):
    """A boolean from a JSON text column, in the session's database's own terms."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB
        return sa.cast(column, JSONB)[key].as_boolean()
    return sa.func.json_extract(column, f"$.{key}")


def fleet_strips(services: dict[str, Any], hosts: Iterable[str], idle_ok: dict[str, bool],
                 *, now: float, hours: int, buckets: int) -> dict[str, Any]:
    """Every service's and host's strip of the last ``hours`` and its availability, from the
    event log of the last 30 days plus the last event before it (the state it started in).

    services: slug -> config (``host`` attribute); idle_ok: slug -> inactive by design."""
    since = now - max(WINDOWS.values())
    ev = MonitorEvent
    crash = _json_flag(ev.payload, "crash_looping").label("crash")
    # The last event of each service and host before the window: the state each started in.
    before = (sa.select(sa.func.max(ev.id)).where(ev.at < since)
              .group_by(ev.kind, sa.func.coalesce(ev.service, ev.host)))
    rows = db.session.execute(
        sa.select(ev.kind, ev.host, ev.service, ev.at, ev.to_state, crash)
        .where(sa.or_(ev.at >= since, ev.id.in_(before))).order_by(ev.at, ev.id)).all()
    unit_rows = [r for r in rows if r.kind == "unit" and r.service in services]
    # A host event that keeps its state (an error code changed) is no change of the strip.
    host_pts = _points([r for r in rows if r.kind == "host"], lambda r: r.host,
                       lambda r: host_code(r.to_state))
    unit_pts = _points(unit_rows, lambda r: r.service,
                       lambda r: unit_code(r.to_state, r.crash, idle_ok.get(r.service, False)))
    start = now - hours * 3600
    return {
        "services": {slug: summary(overlay(unit_pts.get(slug, []), host_pts.get(svc.host, [])),
                                   start, now, buckets)
                     for slug, svc in services.items()},
        "hosts": {name: summary(host_pts.get(name, []), start, now, buckets) for name in hosts},
    }


def current_statuses(slugs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The last observed status of each service (for whether it is inactive by design)."""
    wanted = list(slugs)
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(wanted), 500):  # SQLite's bound on parameters
        for slug, text in db.session.execute(
                sa.select(UnitState.slug, UnitState.status)
                .where(UnitState.slug.in_(wanted[i:i + 500]))):
            out[slug] = json.loads(text)
    return out
