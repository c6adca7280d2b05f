"""The shared status snapshot: what the monitor (and actions) publish, what requests read.

Requests never wait on SSH: they read the last observed state from here, in any worker
process. Writers compare and write in one ``BEGIN IMMEDIATE`` transaction, so two processes
publishing about the same unit never interleave, and a read sent earlier never overwrites one
sent later (``observed_at`` is when the reading command was sent).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from recon.audit.models import AuditEntry
from recon.config import SYSTEMCTL_ACTIONS, ReconConfig, ServiceConfig
from recon.db.extensions import db
from recon.db.transactions import write_transaction
from recon.monitor.crashloop import track
from recon.monitor.healthstate import apply as apply_health
from recon.monitor.healthstate import carry as carry_health
from recon.monitor.models import HostState, MonitorEvent, SnapshotVersion, UnitState, iso
from recon.ssh import CommandFailed, HostDown, RemoteError, SshdRefusing
from recon.web.context import runtime

# A change in any of these is an event (and a history row); memory and timestamps alone not.
SIGNIFICANT = ("state", "sub_state", "load_state", "enabled", "main_pid", "restarts", "result",
               "crash_looping", "health")
# An action still running (audit entry without an outcome) this recently explains a change.
ACTION_WINDOW_SECONDS = 600
VERSION_ROW = "fleet"


@dataclass(frozen=True)
class Cause:
    """Who caused a change: an audited action and its actor."""

    audit_id: int
    actor: str
    action: str


def _pending_cause(session: Session, slug: str, now: float) -> Cause | None:
    """The action on ``slug`` that is running right now, if any (its audit entry is open)."""
    cutoff = now - ACTION_WINDOW_SECONDS
    entry = session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.service == slug, AuditEntry.success.is_(None),
               AuditEntry.action.in_(SYSTEMCTL_ACTIONS), AuditEntry.at >= cutoff)
        .order_by(AuditEntry.id.desc()).limit(1)).first()
    return Cause(entry.id, entry.actor, entry.action) if entry else None


def bump_version(session: Session) -> int:
    """The next snapshot version, inside the caller's write transaction (whose row lock on
    the counter orders the writers until it commits)."""
    value = session.execute(
        sa.update(SnapshotVersion).where(SnapshotVersion.name == VERSION_ROW)
        .values(value=SnapshotVersion.value + 1).returning(SnapshotVersion.value)).scalar()
    if value is None:
        session.add(SnapshotVersion(name=VERSION_ROW, value=1))
        session.flush()
        value = 1
    return value


def version_select() -> sa.Select:
    """The query for the snapshot's version (no row before anything was written)."""
    return sa.select(SnapshotVersion.value).where(SnapshotVersion.name == VERSION_ROW)


def current_version() -> int:
    """The snapshot's version now (0 before anything was written)."""
    return db.session.scalar(version_select()) or 0


@dataclass(frozen=True)
class Reading:
    """What one contact with a host found, for :func:`publish_readings`: the units it read
    (``statuses`` by unit, for ``services``) or the error that stopped it; ``degraded``:
    what is wrong with a host that still answers (its sshd takes no new connections)."""

    host: str
    services: tuple[ServiceConfig, ...]
    statuses: dict[str, dict[str, Any]] | None
    observed_at: float
    error: RemoteError | None = None
    events: str | None = None
    # Health check results by slug (recon.monitor.healthcheck): a reading of only these.
    health: dict[str, dict[str, Any]] | None = None
    degraded: RemoteError | None = None


def publish_statuses(services: Iterable[ServiceConfig], statuses: dict[str, dict[str, Any]],
                     observed_at: float, cause: Cause | None = None, *,
                     events: str | None = None) -> list[int]:
    """Store what one read of a host saw; record an event per significant change. The host
    answered, so it is recorded as up in the same transaction (``events``: how the monitor
    hears of it, when the monitor publishes).

    Returns the ids of the events written. A status read before the stored one is ignored.
    """
    services = [s for s in services if s.unit in statuses]
    if not services:
        return []
    with write_transaction() as session:
        written = _write_statuses(session, services, statuses, observed_at, cause, events,
                                  time.time(), bump_version(session))
        session.flush()
        ids = [e.id for e in written]
    return ids


def publish_readings(readings: Sequence[Reading]) -> int:
    """Store many hosts' readings in one transaction (the monitor's batched writes: one
    lock and one version for all of them); returns the number of events written."""
    if not readings:
        return 0
    now = time.time()
    written = 0
    with write_transaction() as session:
        version = bump_version(session)
        for r in readings:
            services = [s for s in r.services if r.statuses and s.unit in r.statuses]
            if r.health is not None:
                written += len(_write_health(session, r, version))
            elif services:
                written += len(_write_statuses(session, services, r.statuses or {},
                                               r.observed_at, None, r.events, now, version,
                                               degraded=r.degraded))
            elif _record_host(session, r.host, r.error or r.degraded, r.events, now,
                              version) is not None:
                written += 1
    return written


def _write_statuses(session: Session, services: list[ServiceConfig],
                    statuses: dict[str, dict[str, Any]], observed_at: float,
                    cause: Cause | None, events: str | None, now: float,
                    version: int, degraded: RemoteError | None = None) -> list[MonitorEvent]:
    """One host's read, inside the caller's write transaction; the events it wrote."""
    written: list[MonitorEvent] = []
    # The host first: a reader of the events (the notifier) must see it back before it
    # judges the units the same read found, or a unit that failed during the outage is
    # taken for part of it and never told.
    _record_host(session, services[0].host, degraded, events, now, version)
    # Plain statements rather than ORM objects: at rest nearly every read changes nothing
    # but its time, and a thousand hosts' reads a minute are mostly this loop.
    table = UnitState.__table__
    rows = {r.slug: r for r in session.execute(
        sa.select(table.c.slug, table.c.status, table.c.observed_at)
        .where(table.c.slug.in_([s.slug for s in services])))}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    settings = runtime().config.settings
    for svc in services:
        row = rows.get(svc.slug)
        if row is not None and row.observed_at > observed_at:
            continue
        old = json.loads(row.status) if row is not None else None
        status = dict(statuses[svc.unit])  # the caller's stays as read
        # Carried from the previous read: the restarts seen within the window (crashloop).
        track(old, status, observed_at, restarts=settings.crash_loop_restarts,
              window=settings.crash_loop_window_seconds)
        carry_health(old, status, svc, observed_at)  # and its health (healthstate)
        significant = old is None or any(old.get(k) != status.get(k) for k in SIGNIFICANT)
        why = (cause or _pending_cause(session, svc.slug, now)) if significant else None
        _carry_changed_by(old, status, why, now)
        text = json.dumps(status, sort_keys=True)
        values = {"host": svc.host, "unit": svc.unit, "status": text,
                  "observed_at": observed_at, "version": version}
        if row is None:
            inserts.append({"slug": svc.slug, **values})
        else:
            updates.append({"b_slug": svc.slug, **values})
            if row.status == text or not significant:
                continue
        event = MonitorEvent(
            at=now, kind="unit", host=svc.host, service=svc.slug,
            from_state=old.get("state") if old else None,
            to_state=status.get("state") or "unknown",
            cause="action" if why else "observed",
            actor=why.actor if why else None, audit_id=why.audit_id if why else None,
            action=why.action if why else None, result=status.get("result"),
            exit_status=status.get("exit_status"), payload=text)
        session.add(event)
        written.append(event)
    if inserts:
        session.execute(sa.insert(table), inserts)
    if updates:
        session.execute(sa.update(table).where(table.c.slug == sa.bindparam("b_slug")),
                        updates)
    return written


def _write_health(session: Session, reading: Reading, version: int) -> list[MonitorEvent]:
    """One round of a host's health checks, inside the caller's write transaction: each
    result recorded in its service's status (healthstate); an event where the health word
    changed. A service not yet read by the monitor has nothing to record it in: skipped."""
    services = {s.slug: s for s in reading.services
                if s.health is not None and s.slug in (reading.health or {})}
    table = UnitState.__table__
    rows = session.execute(sa.select(table.c.slug, table.c.status)
                           .where(table.c.slug.in_(list(services)))).all()
    written = []
    for row in rows:
        svc = services[row.slug]
        status = json.loads(row.status)
        changed = apply_health(status, reading.health[row.slug], svc, reading.observed_at)
        text = json.dumps(status, sort_keys=True)
        session.execute(sa.update(table).where(table.c.slug == row.slug)
                        .values(status=text, version=version))
        if changed:
            event = MonitorEvent(
                at=time.time(), kind="unit", host=svc.host, service=svc.slug,
                from_state=status.get("state"), to_state=status.get("state") or "unknown",
                cause="observed", result=status.get("result"),
                exit_status=status.get("exit_status"), payload=text)
            session.add(event)
            written.append(event)
    return written


def _carry_changed_by(old: dict[str, Any] | None, status: dict[str, Any], why: Cause | None,
                      now: float) -> None:
    """``changed_by``: the last audited action that changed the unit (who, what, when), for
    "Stopped by alice · 18:18" on its row and page. Kept while the unit stays in the state the
    action left it in; a state change nobody caused drops it (it would name the wrong cause)."""
    if why is not None:
        status["changed_by"] = {"actor": why.actor, "action": why.action, "at": iso(now),
                                "audit_id": why.audit_id}
    elif old is not None and old.get("changed_by") and old.get("state") == status.get("state"):
        status["changed_by"] = old["changed_by"]


def publish_host(name: str, error: RemoteError | None, *, events: str | None = None,
                 now: float | None = None) -> int | None:
    """Store the outcome of one contact with a host; an event when its state changes."""
    now = time.time() if now is None else now
    with write_transaction() as session:
        event = _record_host(session, name, error, events, now, bump_version(session))
        session.flush()
        return event.id if event is not None else None


def _record_host(session: Session, name: str, error: RemoteError | None, events: str | None,
                 now: float, version: int) -> MonitorEvent | None:
    """Update a host's row inside the caller's transaction; the event if its state moved."""
    if error is None:
        state = "up"
    else:
        state = "degraded" if isinstance(error, (CommandFailed, SshdRefusing)) else "down"
    row = session.get(HostState, name)
    before = (row.state, row.error, row.events) if row is not None else None
    if row is None:
        row = HostState(name=name, state=state, since=now, checked_at=now, version=version)
        session.add(row)
    elif row.state != state:
        row.since = now
    row.state, row.checked_at, row.version = state, now, version
    if state != "down":
        row.last_seen = max(now, row.last_seen or 0.0)
    if events is not None:
        row.events = events
    row.error = error.code if error else None
    row.message = error.message if error else None
    row.hint = error.hint if error else None
    if before == (row.state, row.error, row.events):
        return None
    event = MonitorEvent(at=now, kind="host", host=name, service=None,
                         from_state=before[0] if before else None, to_state=state,
                         cause="observed", payload=json.dumps(row.to_dict()))
    session.add(event)
    return event


# -- reads ---------------------------------------------------------------------------------

def service_view(service: ServiceConfig, row: Any, host: Any) -> dict[str, Any]:
    """One service's status as the API shows it: the last observation, and what is known
    about its host (a host that is down marks the service ``unreachable``). ``row`` and
    ``host``: a :class:`UnitState` and a :class:`HostState`, or rows of their tables."""
    if row is None:
        status: dict[str, Any] = {"unit": service.unit, "active": False, "state": "unknown",
                                  "pending": True}
    else:
        status = json.loads(row.status)
    status["observed_at"] = iso(row.observed_at) if row else None
    status["stopped_ok"] = stopped_ok(service, status)
    # A host whose sshd refuses only NEW connections is still read over the open one: its
    # units' states are current, so they are shown as read.
    if host is not None and host.state != "up" and host.error != SshdRefusing.code:
        last_known = {k: status.get(k) for k in ("state", "sub_state", "main_pid")}
        status.update(active=False, state="unreachable" if host.state == "down" else "unknown",
                      error=host.error, message=host.message, hint=host.hint,
                      host_since=iso(host.since), last_known=last_known if row else None)
    return status


def stopped_ok(service: ServiceConfig, status: dict[str, Any]) -> str | None:
    """Why the unit's being inactive is no problem, if it is none: ``expected`` (the config
    says ``expect = "stopped"``), ``timer`` (a timer runs it) or ``oneshot`` (a oneshot
    without RemainAfterExit is inactive between runs by design)."""
    if service.expect == "stopped":
        return "expected"
    if service.timer or status.get("timer_driven"):
        return "timer"
    if status.get("type") == "oneshot" and not status.get("remain_after_exit"):
        return "oneshot"
    return None


def read_fleet(config: ReconConfig) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Every configured service's view by slug, and every configured host's state."""
    units = {r.slug: r for r in db.session.scalars(sa.select(UnitState))}
    hosts = {r.name: r for r in db.session.scalars(sa.select(HostState))}
    services = {s.slug: service_view(s, units.get(s.slug), hosts.get(s.host))
                for s in config.services.values()}
    host_list = [hosts[n].to_dict() if n in hosts else
                 {"name": n, "state": "pending", "reachable": True, "last_seen": None}
                 for n in config.hosts]
    return services, host_list


def read_service(service: ServiceConfig) -> dict[str, Any]:
    """One service's view from the snapshot."""
    return service_view(service, db.session.get(UnitState, service.slug),
                        db.session.get(HostState, service.host))


def read_host(name: str) -> HostState | None:
    """A host's stored state (None before the monitor first contacted it)."""
    return db.session.get(HostState, name)


# Failures that mean "not answering" (answered with host_down while they last); the others
# (a changed host key, a refused login) are answered with their own code.
CONNECTIVITY = ("unreachable", "timeout", "host_busy")


def host_down(row: HostState | None, *, fresh_within: float,
              down_for: float = 0.0) -> RemoteError | None:
    """The error to answer at once when the monitor saw the host fail in the last
    ``fresh_within`` seconds (an older verdict is not trusted: the host is tried), and it
    has been down for at least ``down_for`` seconds (a blip is tried too)."""
    if row is None or row.state != "down" or time.time() - row.checked_at > fresh_within:
        return None
    if time.time() - row.since < down_for:
        return None
    cause = RemoteError(row.message or "the host is down", hint=row.hint, host=row.name)
    cause.code = row.error or "unreachable"
    if cause.code not in CONNECTIVITY:
        return cause
    stamp = time.strftime("%H:%M:%S", time.localtime(row.since))
    return HostDown(f"{row.name} is down since {stamp}: {row.message}", since=row.since,
                    cause=cause, retry_in=0, host=row.name)
