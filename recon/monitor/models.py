"""The shared status snapshot, its history and the monitor's leases, as SQLite tables.

Every worker process reads these; the monitor of each host's lease holder (and actions, which
publish what they caused) writes them. Times are epoch seconds (floats): comparable across
processes on one machine, and across replicas with synchronised clocks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.db.extensions import db


def iso(epoch: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC (None stays None)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


class UnitState(db.Model):
    """The last observed status of one configured service."""

    __tablename__ = "unit_state"

    slug: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(64), index=True)
    unit: Mapped[str] = mapped_column(sa.String(256))
    status: Mapped[str] = mapped_column(sa.Text)  # the status object, JSON
    # When the command that saw this status was sent: a read sent earlier never overwrites it.
    observed_at: Mapped[float]
    # The snapshot version that last wrote the row (SnapshotVersion): readers that keep the
    # fleet in memory read only the rows written since the version they hold.
    version: Mapped[int] = mapped_column(default=0, server_default="0", index=True)

    def status_dict(self) -> dict[str, Any]:
        return json.loads(self.status)


class HostState(db.Model):
    """Whether the monitor can talk to a host, since when, and how it learns of changes."""

    __tablename__ = "host_state"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))  # up | down | degraded
    since: Mapped[float]  # when it entered this state
    last_seen: Mapped[float | None]  # last successful contact
    checked_at: Mapped[float]
    error: Mapped[str | None] = mapped_column(sa.String(64))
    message: Mapped[str | None] = mapped_column(sa.Text)
    hint: Mapped[str | None] = mapped_column(sa.Text)
    events: Mapped[str | None] = mapped_column(sa.String(16))  # dbus | poll
    version: Mapped[int] = mapped_column(default=0, server_default="0", index=True)

    def to_dict(self) -> dict[str, Any]:
        return host_dict(self)


def host_dict(row: Any) -> dict[str, Any]:
    """A host's state as the API shows it, from a :class:`HostState` or a row of its table."""
    body: dict[str, Any] = {
        "name": row.name, "state": row.state, "reachable": row.state != "down",
        "since": iso(row.since), "last_seen": iso(row.last_seen),
        "checked_at": iso(row.checked_at), "events": row.events,
    }
    if row.error:
        body.update(error=row.error, message=row.message, hint=row.hint)
        if row.state == "degraded":  # answers, but something is wrong: what
            body["degraded"] = row.message
    return body


class MonitorEvent(db.Model):
    """One change: a unit's state (observed, or caused by an audited action) or a host's.

    The id is the Server-Sent Events id, so a browser resumes exactly where it left off; the
    rows with ``kind == "unit"`` are each service's history.
    """

    __tablename__ = "monitor_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[float] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))  # unit | host
    host: Mapped[str] = mapped_column(sa.String(64))
    service: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str] = mapped_column(sa.String(32))
    cause: Mapped[str] = mapped_column(sa.String(16))  # observed | action
    actor: Mapped[str | None] = mapped_column(sa.String(200))
    audit_id: Mapped[int | None]
    action: Mapped[str | None] = mapped_column(sa.String(40))
    result: Mapped[str | None] = mapped_column(sa.String(64))
    exit_status: Mapped[int | None]
    payload: Mapped[str] = mapped_column(sa.Text)  # the new status (unit) or host state, JSON

    def to_dict(self, *, payload: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "at": iso(self.at), "kind": self.kind, "host": self.host,
            "service": self.service, "from": self.from_state, "to": self.to_state,
            "cause": self.cause, "actor": self.actor, "audit_id": self.audit_id,
            "action": self.action, "result": self.result, "exit_status": self.exit_status,
        }
        state = json.loads(self.payload)
        if self.kind == "unit":
            # What a timeline needs beyond the state: "active -> activating" says nothing of a
            # crash that systemd is about to restart (sub_state auto-restart) or of a loop.
            body.update(sub_state=state.get("sub_state"),
                        crash_looping=bool(state.get("crash_looping")),
                        exit_code=state.get("exit_code"), exit_signal=state.get("exit_signal"),
                        health=state.get("health"))
        if payload:
            body["status" if self.kind == "unit" else "host_state"] = state
        return body


class MonitorLease(db.Model):
    """Which process runs the leader duties (the notifier, repair, history pruning): one
    holder, renewed, taken over when it lapses."""

    __tablename__ = "monitor_lease"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(128))
    expires_at: Mapped[float]


class SnapshotVersion(db.Model):
    """A counter bumped by every transaction that writes unit or host state; the row lock
    it takes orders the writers, so a reader that saw version N has seen every row written
    at N or before."""

    __tablename__ = "snapshot_version"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    value: Mapped[int]


class MonitorMember(db.Model):
    """A process that takes part in monitoring, while it renews its row: the hosts are
    shared among the live members (:mod:`recon.monitor.sharing`)."""

    __tablename__ = "monitor_member"

    owner: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    started_at: Mapped[float]
    expires_at: Mapped[float]
    # The recon.toml revision the process runs, and its server (host name and the pid of
    # the process that started it): processes of two servers on one database with different
    # configs would split the fleet silently (recon.liveconfig reports it).
    config_revision: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")
    server: Mapped[str] = mapped_column(sa.String(128), default="", server_default="")


class HostLease(db.Model):
    """Which process watches a host: its supervisor runs there while the lease is renewed.

    ``state`` is ``watching`` while the supervisor reports, ``failing`` while it restarts
    after an unexpected error or has not reported in time (``note`` says which);
    ``restarts`` counts the supervisor's restarts under this owner.
    """

    __tablename__ = "host_lease"

    host: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(128), index=True)
    expires_at: Mapped[float]
    state: Mapped[str] = mapped_column(sa.String(16), default="watching")
    note: Mapped[str | None] = mapped_column(sa.Text)
    restarts: Mapped[int] = mapped_column(default=0)
