"""The fleet call from memory (recon.services.fleet): served from each process's copy, which
reads only the rows written since the version it holds; the compact view carries the same
values without key names; a host's change repaints its services. No host needed: readings
are published straight into the snapshot."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask import Flask
from pg_cluster import app_database_uri

from recon import create_app
from recon.auth.accounts import create_token
from recon.monitor import snapshot
from recon.monitor.snapshot import Reading
from recon.services.fleet import COLUMNS, fleet_view
from recon.ssh import Unreachable
from recon.ssh.systemctl import parse_properties
from recon.web.context import runtime

HOSTS = ("alpha", "beta", "gamma")
UNITS = ("web.service", "db.service")


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    key = tmp_path / "id_ed25519"  # a real key that nothing uses: nothing connects
    key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    key.chmod(0o600)
    lines = []
    for h in HOSTS:
        lines += [f"[hosts.{h}]", 'address = "192.0.2.1"', 'user = "recon"', f'key = "{key}"', ""]
    for h in HOSTS:
        for u in UNITS:
            lines += ["[[services]]", f'slug = "{h}-{u.split(".")[0]}"', f'host = "{h}"',
                      f'unit = "{u}"', ""]
    config = tmp_path / "recon.toml"
    config.write_text("\n".join(lines))
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})
    with app.app_context():
        app.config["TOKEN"] = create_token("viewer", "viewer")[1]
    return app


def status(unit: str, state: str = "active") -> dict:
    return parse_properties({"ActiveState": state, "SubState": "running", "LoadState": "loaded",
                             "MainPID": "42", "Description": f"The {unit}"}, unit)


def publish(app: Flask, host: str, state: str = "active", error=None) -> None:
    rt = runtime(app)
    with app.app_context():
        snapshot.publish_readings([Reading(
            host, tuple(rt.config.services_on(host)),
            None if error else {u: status(u, state) for u in UNITS}, time.time(), error)])


def fleet(app: Flask, view: str = "full") -> dict:
    resp = app.test_client().get(f"/api/services?view={view}",
                                 headers={"Authorization": f"Bearer {app.config['TOKEN']}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_the_compact_view_is_the_full_view_without_key_names(app):
    for h in HOSTS:
        publish(app, h)
    full, compact = fleet(app), fleet(app, "compact")
    assert compact["columns"] == list(COLUMNS)
    rows = [dict(zip(compact["columns"], r, strict=True)) for r in compact["services"]]
    for obj, row in zip(full["services"], rows, strict=True):
        want = {k: v for k, v in obj.items() if k not in ("actions", "tags", "service")}
        assert {k: v for k, v in row.items() if v is not None} == {
            k: v for k, v in want.items() if v is not None}
    assert len(json.dumps(compact["services"])) < 0.6 * len(json.dumps(full["services"]))
    assert full["event_id"] == compact["event_id"] > 0
    assert [h["name"] for h in full["hosts"]] == list(HOSTS)
    # nothing runs the monitor here: every host says so
    assert all(not h["watched"] and "no RECON process" in h["watch_reason"]
               for h in full["hosts"])


def test_every_status_key_has_a_column():
    assert set(status("web.service")) <= set(COLUMNS)


def test_a_call_reencodes_only_what_changed_and_a_host_change_repaints_its_services(app):
    for h in HOSTS:
        publish(app, h)
    view = fleet_view(app)
    fleet(app)
    before = view.rebuilt
    assert fleet(app) and view.rebuilt == before  # nothing new: nothing encoded
    publish(app, "beta", "failed")
    body = fleet(app)
    assert view.rebuilt == before + 2  # beta's two services
    states = {s["slug"]: s["state"] for s in body["services"]}
    assert states == {"alpha-web": "active", "alpha-db": "active", "beta-web": "failed",
                      "beta-db": "failed", "gamma-web": "active", "gamma-db": "active"}
    publish(app, "gamma", error=Unreachable("no route to host", host="gamma"))
    body = fleet(app)
    assert {s["slug"]: s["state"] for s in body["services"]}["gamma-db"] == "unreachable"
    assert view.rebuilt == before + 4


def test_an_unknown_view_is_refused(app):
    resp = app.test_client().get("/api/services?view=tiny",
                                 headers={"Authorization": f"Bearer {app.config['TOKEN']}"})
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_parameter"


def _stream_head(app: Flask, query: str) -> str:
    resp = app.test_client().get(f"/api/events?{query}", buffered=False,
                                 headers={"Authorization": f"Bearer {app.config['TOKEN']}"})
    assert resp.status_code == 200
    try:
        head = next(iter(resp.response))  # the stream's first write: its head
    finally:
        resp.close()
    return head.decode() if isinstance(head, bytes) else head


def test_a_stream_after_the_fleet_calls_event_id_does_not_resend_the_fleet(app):
    for h in HOSTS:
        publish(app, h)
    event_id = fleet(app, "compact")["event_id"]
    head = _stream_head(app, "view=compact")
    assert "event: snapshot" in head and '"columns":' in head
    resumed = _stream_head(app, f"after={event_id}")
    assert "event: snapshot" not in resumed and "beta-web" not in resumed


def test_a_new_database_answers_every_service_pending_and_event_id_0(app):
    """Nothing read yet, no event written: still valid JSON, the stream resumes from 0."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {app.config['TOKEN']}"}
    for view in ("full", "compact"):
        resp = client.get(f"/api/services?view={view}", headers=headers)
        body = json.loads(resp.get_data(as_text=True))
        assert body["event_id"] == 0
        assert len(body["services"]) == len(HOSTS) * len(UNITS)
    slug = f"{HOSTS[0]}-{UNITS[0].split('.')[0]}"
    one = json.loads(client.get(f"/api/services/{slug}/status", headers=headers).data)
    assert one["slug"] == slug and one["pending"] is True
