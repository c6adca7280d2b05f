"""What the snapshot keeps of a host's liveness (no host needed: readings are published
straight into it): a host whose sshd refuses new connections is `degraded` with the reason
while its units stay as read; when each host last answered never moves back and reaches the
fleet call and the live stream's `answered` body as an age by the server's clock."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask import Flask

from recon import create_app
from recon.auth.accounts import create_token
from recon.db.extensions import db
from recon.monitor import snapshot
from recon.monitor.liveness import record_heard
from recon.monitor.models import HostState
from recon.monitor.snapshot import Reading
from recon.services.fleet import fleet_view
from recon.ssh import SshdRefusing
from recon.ssh.systemctl import parse_properties
from recon.web.context import runtime


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    key = tmp_path / "id_ed25519"  # a real key that nothing uses: nothing connects
    key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    key.chmod(0o600)
    config = tmp_path / "recon.toml"
    config.write_text("\n".join([
        "[hosts.alpha]", 'address = "192.0.2.1"', 'user = "recon"', f'key = "{key}"', "",
        "[[services]]", 'slug = "alpha-web"', 'host = "alpha"', 'unit = "web.service"', ""]))
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'recon.db'}"})
    with app.app_context():
        app.config["TOKEN"] = create_token("viewer", "viewer")[1]
    return app


def publish(app: Flask, degraded=None) -> None:
    services = tuple(runtime(app).config.services_on("alpha"))
    status = parse_properties({"ActiveState": "active", "SubState": "running",
                               "LoadState": "loaded", "MainPID": "42"}, "web.service")
    with app.app_context():
        snapshot.publish_readings([Reading("alpha", services, {"web.service": status},
                                           time.time(), None, "dbus", degraded=degraded)])


def get(app: Flask, path: str) -> dict:
    resp = app.test_client().get(path, headers={
        "Authorization": f"Bearer {app.config['TOKEN']}"})
    assert resp.status_code == 200
    return resp.get_json()


def test_a_host_whose_sshd_refuses_is_degraded_with_the_reason_and_its_units_stay_read(app):
    publish(app)
    refusing = SshdRefusing("sshd at 192.0.2.1:22 does not accept new connections: "
                            "connection refused", host="alpha")
    publish(app, degraded=refusing)
    body = get(app, "/api/services")
    (host,) = body["hosts"]
    assert host["state"] == "degraded" and host["reachable"] is True
    assert host["error"] == "sshd_refusing" and host["degraded"] == refusing.message
    assert "systemctl start ssh" in host["hint"]
    (svc,) = body["services"]
    assert svc["state"] == "active" and "error" not in svc  # read over the open connection
    assert get(app, "/healthz")["hosts_degraded"] == 1
    publish(app)  # the banner answers again
    (host,) = get(app, "/api/services")["hosts"]
    assert host["state"] == "up" and "degraded" not in host and "error" not in host


def test_when_a_host_last_answered_never_moves_back_and_is_served_as_an_age(app):
    publish(app)
    now = time.time()
    with app.app_context():
        assert record_heard({"alpha": now + 0.5}) == 1
        assert record_heard({"alpha": now - 100}) == 0  # an older time changes nothing
        assert db.session.get(HostState, "alpha").last_seen == now + 0.5
        fleet_view(app)._watch = (0.0, {})  # the once-a-second cache: read again now
    (host,) = get(app, "/api/services")["hosts"]
    assert host["answered_age"] < 1.0 and host["answered_at"] and host["liveness_seconds"] == 3
    with app.app_context():
        body = json.loads(fleet_view(app).answered(runtime(app).config))
    assert body["bound"] == 3 and set(body["ages"]) == {"alpha"} and body["ages"]["alpha"] < 1
