"""Issue 12, retention: `recon prune` and the GC thread drop what is past its setting."""

from __future__ import annotations

import time

import sqlalchemy as sa

from recon.audit.models import AuditEntry
from recon.auth.accounts import create_user
from recon.auth.models import LoginFailure, LoginSession
from recon.db.extensions import db
from recon.jobs.background import retention_task
from recon.notify.models import NotifyDelivery
from recon.terminals.models import TerminalSession


def seed(app) -> None:
    now = time.time()  # epoch seconds, as every stored time
    old, new = now - 400 * 86400, now - 5 * 60
    with app.app_context():
        user = create_user("pru", "correct horse battery", "operator")
        for tag, at in (("old", old), ("new", new)):
            db.session.add(LoginFailure(key=f"ua:{tag}|1.2.3.4", count=3, last_at=at))
            db.session.add(AuditEntry(actor=tag, action="x", success=True, at=at))
            db.session.add(LoginSession(key_hash=tag * 8, user_id=user.id, created_at=at,
                                        expires_at=at + 12 * 3600))
            db.session.add(TerminalSession(
                id=f"{tag}1", user="pru", host="demo", mode="shell", slot=0, status="closed",
                socket_path="/nonexistent", spawner="1:1", created_at=at,
                last_activity_at=at, expires_at=at, closed_at=at, close_reason="user"))
            for status in ("sent", "failed", "pending"):  # a pending one is kept, however old
                db.session.add(NotifyDelivery(
                    channel=f"{tag}-{status}", event="unit_failed", title="t", text="t",
                    data="{}", created_at=at, status=status, next_at=at))
        db.session.commit()


def left(app) -> dict[str, set[str]]:
    with app.app_context():
        return {
            "failures": set(db.session.scalars(sa.select(LoginFailure.key))),
            "audit": set(db.session.scalars(sa.select(AuditEntry.actor).where(
                AuditEntry.action == "x"))),
            "sessions": set(db.session.scalars(sa.select(LoginSession.key_hash))),
            "terminals": set(db.session.scalars(sa.select(TerminalSession.id))),
            "notifications": set(db.session.scalars(sa.select(NotifyDelivery.channel))),
        }


def test_recon_prune_drops_only_what_is_past_retention(app):
    seed(app)
    out = app.test_cli_runner().invoke(args=["recon", "prune"])
    assert out.exit_code == 0, out.output
    assert "1 audit" in out.output and "1 terminals" in out.output
    rest = left(app)
    assert rest["failures"] == {"ua:new|1.2.3.4"}
    assert rest["audit"] == {"new"}
    assert rest["sessions"] == {"new" * 8}
    assert rest["terminals"] == {"new1"}
    assert rest["notifications"] == {"new-sent", "new-failed", "new-pending", "old-pending"}


def test_the_background_retention_task_prunes(app):
    seed(app)
    collector = retention_task(app)
    collector.thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "old1" in left(app)["terminals"]:
            time.sleep(0.1)
        assert left(app)["terminals"] == {"new1"} and left(app)["audit"] == {"new"}
    finally:
        collector.stop()
