"""``GET /api/notify`` (channels and how their deliveries go, never a secret) and
``POST /api/notify/<name>/test`` (admin: send a test message now), plus the CLI's
``recon notify test NAME`` and ``recon notify list``."""

from __future__ import annotations

import sys
import time
from typing import Any

import click
import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask.cli import AppGroup

from recon.audit import store as audit
from recon.config.notify import ChannelConfig
from recon.core.errors import NotFound
from recon.db.extensions import db
from recon.monitor.models import MonitorEvent, iso
from recon.notify.channels import DeliveryError, send
from recon.notify.models import NotifyChannelState, NotifyCursor, NotifyDelivery
from recon.notify.worker import record_outcome
from recon.web.context import runtime
from recon.web.policy import require_role

bp = Blueprint("notify", __name__)
cli = AppGroup("notify", help="Notification channels.")
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


@bp.get("/api/notify")
def list_channels():
    """Every channel with its status; ``lag`` is how many monitor events await the notifier."""
    config = runtime().config
    cursor = db.session.get(NotifyCursor, "events")
    newest = db.session.scalar(sa.select(sa.func.max(MonitorEvent.id))) or 0
    return jsonify({"channels": [channel_status(c) for c in config.notify.values()],
                    "lag": max(newest - cursor.position, 0) if cursor else None})


def _channel(name: str) -> ChannelConfig:
    channel = runtime().config.notify.get(name)
    if channel is None:
        raise NotFound("channel", f"no notification channel named {name!r}",
                       "GET /api/notify lists the channels ([notify.NAME] in recon.toml).")
    return channel


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


@bp.post("/api/notify/<name>/test")
@require_role("admin")
def test_channel(name: str):
    """Send a test message through one channel (within the channel's ``timeout``)."""
    channel = _channel(name)
    ok, text, code = send_test(channel, audit.current_actor())
    if not ok:
        return jsonify({"success": False, "channel": name, "error": code, "message": text,
                        "hint": "Check the channel's settings in recon.toml and that the "
                                "receiver is up; GET /api/notify shows its last errors."}), 502
    return jsonify({"success": True, "channel": name, "result": text})


@cli.command("test")
@click.argument("name")
def test_command(name: str) -> None:
    """Send a test notification through channel NAME."""
    channel = runtime().config.notify.get(name)
    if channel is None:
        click.echo(f"error: no notification channel named {name!r} "
                   f"(configured: {', '.join(runtime().config.notify) or 'none'})", err=True)
        sys.exit(1)
    ok, text, code = send_test(channel, audit.current_actor())
    if not ok:
        click.echo(f"error: {code}: {text}", err=True)
        sys.exit(1)
    click.echo(f"sent through {name}: {text}")


@cli.command("list")
def list_command() -> None:
    """List the channels and how their deliveries go."""
    for ch in runtime().config.notify.values():
        s = channel_status(ch)
        click.echo(f"{ch.name}\t{ch.type}\tsent {s['sent']}\tpending {s['pending']}\t"
                   f"{'FAILING: ' + (s['last_error'] or '') if s['failing'] else 'ok'}")
