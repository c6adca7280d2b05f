"""How a channel's deliveries go, and a test message sent through it now: what the API and
the CLI both show and do."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from recon.audit import store as audit
from recon.config.notify import ChannelConfig
from recon.db.extensions import db
from recon.monitor.models import iso
from recon.notify.channels import DeliveryError, send
from recon.notify.models import NotifyChannelState, NotifyDelivery
from recon.notify.worker import record_outcome

FAILING_AFTER = 3  # failed attempts in a row before a channel shows as failing


def channel_status(ch: ChannelConfig) -> dict[str, Any]:
    """A channel's config (public part) and delivery state."""
    state = db.session.get(NotifyChannelState, ch.name)
    counts = dict(db.session.execute(
        sa.select(NotifyDelivery.status, sa.func.count()).where(
            NotifyDelivery.channel == ch.name).group_by(NotifyDelivery.status)).all())
    in_row = state.failures_in_row if state else 0
    return {**ch.public(), "failing": in_row >= FAILING_AFTER, "failures_in_row": in_row,
            "sent": state.sent if state else 0,
            "failed_attempts": state.failed_attempts if state else 0,
            "given_up": counts.get("failed", 0), "pending": counts.get("pending", 0),
            "last_ok_at": iso(state.last_ok_at) if state else None,
            "last_error_at": iso(state.last_error_at) if state else None,
            "last_error": state.last_error if state else None}


def send_test(channel: ChannelConfig, requested_by: str) -> tuple[bool, str, str | None]:
    """Send a test message through ``channel`` now; (ok, receipt or message, error code).
    Audited and counted like a delivery."""
    payload = {"event": "test", "delivery": "test", "title": "[RECON] test notification",
               "text": f"A test message from RECON for channel {channel.name}, requested by "
                       f"{requested_by}.", "host": None, "service": None,
               "at": iso(time.time()), "resolved": False}
    started = time.monotonic()
    try:
        ok, text, code = True, send(channel, payload), None
    except DeliveryError as exc:
        ok, text, code = False, exc.message, exc.code
    record_outcome(channel.name, ok, None if ok else f"{code}: {text}", now=time.time())
    db.session.commit()
    audit.record("notify_test", success=ok, error=code, actor=requested_by,
                 duration_ms=round((time.monotonic() - started) * 1000, 1),
                 output=f"channel {channel.name}: {text}")
    return ok, text, code
