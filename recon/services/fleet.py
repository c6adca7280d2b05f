"""The fleet's status as ``GET /api/services`` and the event stream's snapshot serve it: kept
in memory per process and brought up to date from the rows written since.

Every write of unit or host state bumps the snapshot's version and stamps its rows
(:func:`recon.monitor.snapshot.bump_version`). A read asks for the version (one primary-key
lookup); only if it moved does it read the rows stamped after the version it holds, and
re-encode the services they touch (a host's change re-encodes its services: a down host makes
them ``unreachable``). Each service is kept encoded, in the full shape and in the compact
one (values in ``COLUMNS`` order, no key names): a call at 10,000 services joins strings.
Whether each host is watched comes from the host leases, read at most once a second.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import Flask

from recon.config import ACTIONS, ReconConfig, ServiceConfig
from recon.db.extensions import db
from recon.monitor import sharing, snapshot
from recon.monitor.models import HostState, MonitorEvent, UnitState, host_dict, iso
from recon.web.context import per_app

# The compact view's columns: the service's identity, then every key of its status (what
# systemctl's parse gives, and what service_view adds). A key not listed is not sent.
COLUMNS = (
    "slug", "host", "name", "unit", "active", "state", "sub_state", "load_state", "enabled",
    "since", "since_epoch", "main_pid", "memory_bytes", "restarts", "exit_status",
    "description", "result", "exited_how", "exit_code", "exit_signal", "inactive_since",
    "state_changed", "transitioning", "masked", "found", "observed_at", "pending", "error",
    "message", "hint", "host_since", "last_known", "crash_looping", "crash",
    "type", "remain_after_exit", "timer_driven", "stopped_ok", "changed_by", "health",
    "health_check",
)
WATCH_CACHE_SECONDS = 1.0
SEPARATORS = (",", ":")


def describe(service: ServiceConfig, status: dict[str, Any]) -> dict[str, Any]:
    """A service's config and status as one JSON object."""
    return {
        "slug": service.slug,
        "service": service.name,
        "name": service.name,
        "host": service.host,
        "actions": sorted(service.actions, key=ACTIONS.index),
        "tags": list(service.tags),
        **status,
    }


def compact_row(service: ServiceConfig, status: dict[str, Any]) -> list[Any]:
    """A service's values in ``COLUMNS`` order."""
    values = {"slug": service.slug, "host": service.host, "name": service.name, **status}
    return [values.get(c) for c in COLUMNS]


class FleetView:
    """One process's copy of the fleet's views (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config: ReconConfig | None = None
        self._version = -1
        self._units: dict[str, Any] = {}  # slug -> unit_state row
        self._hosts: dict[str, Any] = {}  # name -> host_state row
        self._full: dict[str, str] = {}  # slug -> the full view, encoded
        self._compact: dict[str, str] = {}
        self._by_host: dict[str, list[str]] = {}  # host -> its services' slugs
        self._watch: tuple[float, dict[str, sharing.Watch]] = (0.0, {})
        # host -> when it last answered (epoch): written once a second without a version
        # (recon.monitor.liveness), so read apart from the rows, at most once a second
        self._answered: dict[str, float | None] = {}
        self._answered_body: tuple[float, str] = (0.0, "")
        self.rebuilt = 0  # services re-encoded (a public counter, for tests)

    def services(self, config: ReconConfig, *, compact: bool = False) -> tuple[list[str], int]:
        """Every configured service, encoded, in config order; and the newest event id
        the views include (a stream resumed after it misses nothing)."""
        # one round trip for both (each is a round trip on PostgreSQL)
        event_id, version = db.session.execute(sa.select(
            sa.select(sa.func.max(MonitorEvent.id)).scalar_subquery(),
            snapshot.version_select().scalar_subquery())).one()
        self._refresh(config, version or 0)
        event_id = event_id or 0
        with self._lock:
            cache = self._compact if compact else self._full
            for slug in [s for s in config.services if s not in cache]:
                self._encode(config.services[slug])
            return [cache[s] for s in config.services], event_id

    def service(self, config: ReconConfig, service: ServiceConfig) -> str:
        """One service's view, encoded (the copy brought up to the snapshot's version)."""
        self._refresh(config)
        with self._lock:
            if service.slug not in self._full:
                self._encode(service)
            return self._full[service.slug]

    def hosts(self, config: ReconConfig, *, refresh: bool = True) -> list[dict[str, Any]]:
        """Every configured host's state, with whether a process watches it now
        (``refresh=False``: as of the :meth:`services` call just made)."""
        if refresh:
            self._refresh(config)
        watch = self._watch_states(config)
        with self._lock:
            rows = dict(self._hosts)
        out = []
        wall = time.time()
        bound = config.settings.monitor_silence_seconds
        for name in config.hosts:
            row = rows.get(name)
            body = host_dict(row) if row is not None else {
                "name": name, "state": "pending", "reachable": True, "last_seen": None}
            seen = [t for t in (self._answered.get(name), row.last_seen if row else None) if t]
            if seen:
                answered = max(seen)
                # the age as this server's clock sees it: a page adds its own elapsed time,
                # whatever its clock says
                body.update(last_seen=iso(answered), answered_at=iso(answered),
                            answered_age=round(max(0.0, wall - answered), 1))
            body["liveness_seconds"] = bound
            w = watch.get(name)
            body["watched"] = bool(w and w.watched)
            if not body["watched"]:
                body["watch_reason"] = w.reason if w else "not known yet"
            out.append(body)
        return out

    def answered(self, config: ReconConfig) -> str:
        """The live stream's ``answered`` event body: each host's seconds since it last
        answered (as of now, by this server's clock) and the liveness bound. Encoded once a
        second for every stream of the process."""
        self._watch_states(config)
        now = time.monotonic()
        at, body = self._answered_body
        if now - at <= WATCH_CACHE_SECONDS and body:
            return body
        wall = time.time()
        ages = {n: round(max(0.0, wall - t), 1) for n, t in self._answered.items()
                if t and n in config.hosts}
        body = json.dumps({"bound": config.settings.monitor_silence_seconds, "ages": ages},
                          separators=SEPARATORS)
        self._answered_body = (now, body)
        return body

    def _watch_states(self, config: ReconConfig) -> dict[str, sharing.Watch]:
        """Who watches each host and when each last answered, read at most once a second."""
        now = time.monotonic()
        at, watch = self._watch
        if now - at > WATCH_CACHE_SECONDS:
            watch = sharing.watch_states(config.hosts)
            t = HostState.__table__
            self._answered = dict(db.session.execute(sa.select(t.c.name, t.c.last_seen)).all())
            self._watch = (now, watch)
        return watch

    def _refresh(self, config: ReconConfig, version: int | None = None) -> None:
        """Bring the copy up to ``config`` and the snapshot's version (``version``: read by
        the caller just now). The database is read
        outside the lock (two threads may both read a change; merging it twice is harmless),
        so a slow read holds up no one who needs nothing new."""
        with self._lock:
            if self._config is not config:  # a reloaded config: start over
                self._start_over(config)
            held = self._version
        if version is None:
            version = snapshot.current_version()
        if version == held:
            return
        units = db.session.execute(sa.select(UnitState.__table__)
                                   .where(UnitState.version > held)).all()
        hosts = db.session.execute(sa.select(HostState.__table__)
                                   .where(HostState.version > held)).all()
        db.session.commit()
        with self._lock:
            if self._config is not config or version <= self._version:
                return  # another thread merged as much, or the config changed meanwhile
            self._version = version
            stale = set()
            for u in units:
                if u.slug in self._units and self._units[u.slug].version > u.version:
                    continue
                self._units[u.slug] = u
                stale.add(u.slug)
            for h in hosts:
                if h.name in self._hosts and self._hosts[h.name].version > h.version:
                    continue
                self._hosts[h.name] = h
                stale.update(self._by_host.get(h.name, ()))
            for slug in stale:
                self._full.pop(slug, None)
                self._compact.pop(slug, None)

    def _start_over(self, config: ReconConfig) -> None:
        self._config, self._version = config, -1
        self._units, self._hosts = {}, {}
        self._full, self._compact = {}, {}
        self._by_host = {}
        for svc in config.services.values():
            self._by_host.setdefault(svc.host, []).append(svc.slug)

    def _encode(self, service: ServiceConfig) -> None:
        view = snapshot.service_view(service, self._units.get(service.slug),
                                     self._hosts.get(service.host))
        self._full[service.slug] = json.dumps(describe(service, view), separators=SEPARATORS)
        self._compact[service.slug] = json.dumps(compact_row(service, view),
                                                 separators=SEPARATORS)
        self.rebuilt += 1


def fleet_view(app: Flask) -> FleetView:
    """``app``'s view in this process."""
    return per_app("recon.fleet_view", FleetView, app)


def joined(parts: Iterable[str]) -> str:
    """Encoded JSON values as one JSON array."""
    return "[" + ",".join(parts) + "]"
