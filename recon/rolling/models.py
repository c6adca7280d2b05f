"""A rolling action's state in SQLite, so any worker can answer its progress and cancel it.

A run is one action across several services, done one host at a time; each of its steps is
one service. The runner thread (in the worker that accepted the run) is the only writer of
step outcomes; any worker may set ``cancel_requested``, which the runner polls between steps.
Times are epoch seconds, as in the monitor's tables.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.db.extensions import db
from recon.monitor.models import iso

RUN_STATES = ("running", "succeeded", "failed", "cancelled", "interrupted")
STEP_STATES = ("pending", "running", "ok", "failed", "skipped")


class RollingRun(db.Model):
    __tablename__ = "rolling_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    actor: Mapped[str] = mapped_column(sa.String(200))
    selection: Mapped[str] = mapped_column(sa.String(200))  # "services", "tag:web", "host:a"
    state: Mapped[str] = mapped_column(sa.String(16), default="running", index=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(200))
    audit_id: Mapped[int | None]  # the group's own audit entry
    created_at: Mapped[float]
    heartbeat_at: Mapped[float]  # the runner's last sign of life
    finished_at: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(sa.String(64))
    message: Mapped[str | None] = mapped_column(sa.Text)
    # What this run's steps waited after `active` (None: a run from before settling existed).
    settle_seconds: Mapped[float | None]
    # Hosts run side by side, and the wait between those batches (None: a run from before).
    batch_hosts: Mapped[int | None]
    pause_seconds: Mapped[float | None]

    def to_dict(self, steps: list[RollingStep]) -> dict[str, Any]:
        return {
            "id": self.id, "action": self.action, "actor": self.actor,
            "selection": self.selection, "state": self.state,
            "cancel_requested": self.cancel_requested, "cancelled_by": self.cancelled_by,
            "audit_id": self.audit_id, "created_at": iso(self.created_at),
            "finished_at": iso(self.finished_at), "error": self.error, "message": self.message,
            "settle_seconds": self.settle_seconds,
            "batch_hosts": self.batch_hosts or 1, "pause_seconds": self.pause_seconds or 0.0,
            "steps": [s.to_dict() for s in steps],
            "counts": {k: sum(1 for s in steps if s.state == k) for k in STEP_STATES},
        }


class RollingStep(db.Model):
    __tablename__ = "rolling_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("rolling_run.id", ondelete="CASCADE"),
                                        index=True)
    position: Mapped[int]
    service: Mapped[str] = mapped_column(sa.String(64))
    host: Mapped[str] = mapped_column(sa.String(64))
    unit: Mapped[str] = mapped_column(sa.String(256))
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    audit_id: Mapped[int | None]
    started_at: Mapped[float | None]
    finished_at: Mapped[float | None]
    exit_code: Mapped[int | None]
    main_pid: Mapped[int | None]  # after the step, when the unit has one
    error: Mapped[str | None] = mapped_column(sa.String(64))
    message: Mapped[str | None] = mapped_column(sa.Text)
    settle_until: Mapped[float | None]  # set once the unit is active: when its settle ends

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position, "service": self.service, "host": self.host,
            "unit": self.unit, "state": self.state, "audit_id": self.audit_id,
            "started_at": iso(self.started_at), "finished_at": iso(self.finished_at),
            "exit_code": self.exit_code, "main_pid": self.main_pid, "error": self.error,
            "message": self.message, "settle_until": iso(self.settle_until),
            "settle_left": self.settle_left(),
        }

    def settle_left(self) -> float | None:
        """Seconds of settle still to go while the step runs (by this server's clock, so a
        browser with a skewed clock still counts down right); None when not settling."""
        if self.state != "running" or self.settle_until is None:
            return None
        return round(max(0.0, self.settle_until - time.time()), 1)
