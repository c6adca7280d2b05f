"""Database models."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.core.clock import iso, now
from recon.db.extensions import db


class AuditEntry(db.Model):
    """One thing somebody did (or tried to do), written before the response goes out."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[float] = mapped_column(default=now, index=True)  # epoch seconds
    actor: Mapped[str] = mapped_column(sa.String(200))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(40))
    service: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    host: Mapped[str | None] = mapped_column(sa.String(64))
    # None while the action runs: written before the command is sent, so a dashboard killed
    # mid-action still leaves a trace (closed as "interrupted" once it cannot be running).
    success: Mapped[bool | None]
    exit_code: Mapped[int | None]
    duration_ms: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(sa.String(64))
    output: Mapped[str | None] = mapped_column(sa.Text)
    # A rolling action's id: its own entry and each step's entry carry it.
    group_id: Mapped[int | None] = mapped_column(index=True)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "at": iso(self.at),
            "actor": self.actor,
            "remote_addr": self.remote_addr,
            "action": self.action,
            "service": self.service,
            "host": self.host,
            "success": self.success,
            "state": "pending" if self.success is None else ("ok" if self.success else "failed"),
            "exit_code": self.exit_code,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "output": self.output,
            "group_id": self.group_id,
        }
