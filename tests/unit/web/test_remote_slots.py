"""A stream slot held by a process of another machine (a replica) is not pruned as dead
while that process renews its monitor membership, and is once it stopped."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from pg_cluster import app_database_uri

from recon import create_app
from recon.db.extensions import db
from recon.monitor.models import MonitorMember
from recon.web.slots import HeldSlot, prune_dead


def test_a_remote_slot_lives_as_long_as_its_process_renews_its_membership(tmp_path: Path):
    config = tmp_path / "recon.toml"
    config.write_text("")
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})
    with app.app_context():
        db.session.add(HeldSlot(kind="events", user="ada", owner="4242:123@replica-b",
                                created_at=time.time()))
        db.session.add(MonitorMember(owner="replica-b:4242:abcd1234", started_at=0,
                                     expires_at=time.time() + 10))
        db.session.commit()
        assert prune_dead() == 0
        db.session.execute(sa.update(MonitorMember).values(expires_at=time.time() - 1))
        db.session.commit()
        assert prune_dead() == 1
        db.engine.dispose()
