"""``GET /api/notify`` (channels and how their deliveries go, never a secret) and
``POST /api/notify/<name>/test`` (admin: send a test message now)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from recon.audit import store as audit
from recon.config.notify import ChannelConfig
from recon.core.errors import NotFound
from recon.db.extensions import db
from recon.monitor.models import MonitorEvent
from recon.notify.models import NotifyCursor
from recon.notify.status import channel_status, send_test
from recon.web.context import runtime
from recon.web.policy import require_role

bp = Blueprint("notify", __name__)


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
