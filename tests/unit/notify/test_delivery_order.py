"""Which delivery a channel sends next (recon.notify.worker.next_due) and when a failure
happened (recon.notify.rules.happened_at): a message waiting out its back-off holds back only
later messages about the same unit or host; a failure read late keeps systemd's time of it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask import Flask

from recon import create_app
from recon.db.extensions import db
from recon.monitor.models import iso
from recon.notify.models import NotifyDelivery
from recon.notify.rules import happened_at
from recon.notify.worker import next_due


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    key = tmp_path / "id_ed25519"
    key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    key.chmod(0o600)
    config = tmp_path / "recon.toml"
    config.write_text("\n".join([
        "[hosts.alpha]", 'address = "192.0.2.1"', 'user = "recon"', f'key = "{key}"', "",
        "[notify.ops]", 'type = "webhook"', 'url = "http://127.0.0.1:9/hook"', ""]))
    return create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'recon.db'}"})


def queue(service: str | None, host: str | None, next_at: float, **kw) -> NotifyDelivery:
    row = NotifyDelivery(channel="ops", event="unit_failed", host=host, service=service,
                         title="t", text="x", data="{}", created_at=time.time(),
                         next_at=next_at, **kw)
    db.session.add(row)
    db.session.commit()
    return row


def test_a_message_in_back_off_holds_back_only_its_own_subject(app):
    now = time.time()
    with app.app_context():
        old = queue("web", "alpha", now + 60)  # retried later: the receiver was down
        same = queue("web", "alpha", now)  # "up again" about the same unit: waits its turn
        other = queue("db", "alpha", now)  # a fresh failure of another unit: goes now
        host = queue(None, "alpha", now)  # the host's own message: its own subject
        assert next_due("ops", now).id == other.id
        other.status = "sent"
        db.session.commit()
        assert next_due("ops", now).id == host.id
        host.status = "sent"
        db.session.commit()
        assert next_due("ops", now) is None  # only "web" is left, behind its back-off
        assert next_due("ops", now + 61).id == old.id
        old.status = "sent"
        db.session.commit()
        assert next_due("ops", now).id == same.id


def test_a_claimed_message_holds_back_its_subject_too(app):
    now = time.time()
    with app.app_context():
        queue("web", "alpha", now, claimed_until=now + 30)
        queue("web", "alpha", now)
        assert next_due("ops", now) is None


def test_a_failure_read_late_keeps_the_time_systemd_gives_it():
    recorded = 1_800_000_000.0
    assert happened_at({"state_changed": iso(recorded - 10)}, recorded) == recorded - 10
    assert happened_at({}, recorded) == recorded
    # a host clock far off (or a date systemd could not give) is not believed
    assert happened_at({"state_changed": iso(recorded + 60)}, recorded) == recorded
    assert happened_at({"state_changed": iso(recorded - 7200)}, recorded) == recorded
