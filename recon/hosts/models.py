"""The stored unit list of each host: one row per host, written by the process that watches
the host (or a Refresh), read by every page view -- so a page never waits on SSH."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.db.extensions import db


class HostUnits(db.Model):
    """A host's last unit list and its last attempt (a failed read keeps the old list)."""

    __tablename__ = "host_units"

    host: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    units: Mapped[str | None] = mapped_column(sa.Text)  # JSON list of records; None: never read
    read_at: Mapped[float | None]  # when the stored list was read (sent), epoch seconds
    tried_at: Mapped[float]  # the last attempt, read or failed
    read_ms: Mapped[float | None]  # how long that read took
    error: Mapped[str | None] = mapped_column(sa.String(64))  # the last attempt's error code
    message: Mapped[str | None] = mapped_column(sa.Text)  # ... its message

    def unit_list(self) -> list[dict[str, Any]]:
        return json.loads(self.units) if self.units else []
