"""Notification state in SQLite, shared by every process: the cursors over the monitor's
events and the audit trail, the open problems (for grouping and "resolved" messages), the
delivery queue, and each channel's delivery counters.

Only the lease holder writes most of it; every write that turns events into deliveries also
moves the cursor, in one transaction, so a crash or failover neither loses nor repeats one.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.db.extensions import db
from recon.monitor.models import iso


class NotifyCursor(db.Model):
    """How far the notifier has read: ``events`` (monitor_event.id), ``audit`` (audit.id)."""

    __tablename__ = "notify_cursor"

    name: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)


class NotifyProblem(db.Model):
    """One open problem per channel and subject (``unit:SLUG`` or ``host:NAME``)."""

    __tablename__ = "notify_problem"

    channel: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(64))
    service: Mapped[str | None] = mapped_column(sa.String(64))
    opened_at: Mapped[float]
    failing: Mapped[bool] = mapped_column(default=True)  # the subject is in trouble right now
    count: Mapped[int] = mapped_column(default=1)  # failures since it opened
    reported: Mapped[int] = mapped_column(default=0)  # failures already told (0: none yet)
    window_start: Mapped[float]
    cleared_at: Mapped[float | None]  # when it last came back (resolved after a quiet spell)
    detail: Mapped[str | None] = mapped_column(sa.Text)  # the latest error / result


class NotifyDelivery(db.Model):
    """One message for one channel, retried with backoff until sent or out of attempts."""

    __tablename__ = "notify_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(64), index=True)
    event: Mapped[str] = mapped_column(sa.String(32))
    host: Mapped[str | None] = mapped_column(sa.String(64))
    service: Mapped[str | None] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[str] = mapped_column(sa.Text)  # the webhook's JSON fields
    created_at: Mapped[float]
    status: Mapped[str] = mapped_column(sa.String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_at: Mapped[float]  # when it is due (again)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(128))
    claimed_until: Mapped[float | None]
    sent_at: Mapped[float | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    def payload(self) -> dict[str, Any]:
        return {**json.loads(self.data), "delivery": self.id, "event": self.event,
                "title": self.title, "text": self.text, "host": self.host,
                "service": self.service, "at": iso(self.created_at)}


class NotifyChannelState(db.Model):
    """Per channel: delivery counters (the metrics) and the latest outcome (the banner)."""

    __tablename__ = "notify_channel_state"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    sent: Mapped[int] = mapped_column(default=0)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    given_up: Mapped[int] = mapped_column(default=0)
    failures_in_row: Mapped[int] = mapped_column(default=0)
    last_ok_at: Mapped[float | None]
    last_error_at: Mapped[float | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
