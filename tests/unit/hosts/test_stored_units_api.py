"""The API and pages answer from the stored list, in one request, whatever the host is doing
(here: no host at all behind the address) -- filters, errors, managed marks, roles, speed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flask import Flask
from pg_cluster import app_database_uri

from recon import create_app
from recon.auth.accounts import create_token
from recon.hosts import store
from recon.hosts.units import parse
from recon.web.policy import ROLES

DATA = Path(__file__).parent / "data"
READ_AT = 1_700_000_000.0


@pytest.fixture
def app(tmp_path: Path, key: Path) -> Flask:
    (tmp_path / "known_hosts").write_text("")
    config = tmp_path / "recon.toml"
    config.write_text(f"""
[hosts.h1]
address = "127.0.0.1"
port = 9
user = "recon"
key = "{key}"
connect_timeout = 1

[hosts.h2]
address = "127.0.0.1"
port = 9
user = "recon"
key = "{key}"

[[services]]
slug = "web"
name = "Web"
host = "h1"
unit = "demo-web.service"

[[services]]
slug = "backup"
name = "Backup"
host = "h1"
unit = "demo-backup.service"
timer = "demo-backup.timer"
""")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})
    with app.app_context():
        app.config["TEST_TOKENS"] = {r: create_token(f"t-{r}", r)[1] for r in ROLES}
        store.save("h1", tried_at=READ_AT, read_ms=12.5,
                   units=parse((DATA / "debian12-json.out").read_text()))
    return app


def client(app: Flask, role: str = "viewer"):
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {app.config['TEST_TOKENS'][role]}"
    return c


def test_the_units_of_a_host_come_failed_first_with_managed_ones_marked(app):
    body = client(app).get("/api/hosts/h1/units").get_json()
    assert body["host"] == "h1" and body["total"] == body["matched"] > 200
    assert body["read_at"].startswith("2023-11-14T22:13:20") and body["error"] is None
    assert body["units"][0]["name"] == "hp-broken.service" and body["failed"] == 1
    units = {u["name"]: u for u in body["units"]}
    assert units["demo-web.service"]["managed"] and units["demo-web.service"]["service"] == "web"
    assert units["demo-web.service"]["service_url"] == "/services/web"
    assert units["demo-backup.timer"]["service"] == "backup"  # a service's timer
    assert not units["demo-flaky.service"]["managed"]
    assert body["managed"] == 3 and body["counts"]["active"]["failed"] == 1


def test_filters_narrow_the_list(app):
    c = client(app)
    services = c.get("/api/hosts/h1/units?type=service&active=active&q=demo").get_json()
    assert {u["name"] for u in services["units"]} == {
        "demo-web.service", "demo-worker.service", "demo-cron.service", "demo-stuck.service",
        "demo-flaky.service"}
    assert services["total"] > services["matched"] == 5
    timers = c.get("/api/hosts/h1/units?type=timer&file_state=enabled").get_json()["units"]
    assert timers and all(u["type"] == "timer" and u["file_state"] == "enabled" for u in timers)


def test_a_viewer_gets_no_way_to_manage_and_an_admin_does(app):
    viewer = client(app, "viewer").get("/api/hosts/h1/units?q=demo-flaky").get_json()
    assert viewer["units"][0]["manage_url"] is None
    admin = client(app, "admin").get("/api/hosts/h1/units?q=demo-flaky").get_json()
    assert admin["units"][0]["manage_url"] == "/hosts/h1/manage?unit=demo-flaky.service"
    page = client(app, "viewer").get("/hosts/h1").get_data(as_text=True)
    assert "/manage?unit=" not in page


def test_an_unknown_host_is_404_and_a_bad_filter_400(app):
    c = client(app)
    missing = c.get("/api/hosts/nope/units")
    assert missing.status_code == 404 and missing.get_json()["error"] == "unknown_host"
    assert c.get("/hosts/nope").status_code == 404
    bad = c.get("/api/hosts/h1/units?active=running")
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "invalid_parameter"
    assert bad.get_json()["parameter"] == "active" and "failed" in bad.get_json()["hint"]


def test_anonymous_callers_are_refused(app):
    assert app.test_client().get("/api/hosts").status_code == 401
    assert app.test_client().get("/api/hosts/h1/units").status_code == 401


def test_the_hosts_list_counts_units_and_says_which_were_never_read(app):
    hosts = {h["name"]: h for h in client(app).get("/api/hosts").get_json()["hosts"]}
    assert hosts["h1"]["units"] > 200 and hosts["h1"]["failed"] == 1
    assert hosts["h1"]["services"] == 2 and hosts["h1"]["url"] == "/hosts/h1"
    assert hosts["h2"]["units"] is None and hosts["h2"]["read_at"] is None
    page = client(app).get("/hosts").get_data(as_text=True)
    assert 'href="/hosts/h1"' in page and "not read yet" in page


def test_a_dead_host_keeps_its_list_and_says_why(app):
    """A refresh of an unreachable host answers its error at once; the list stays."""
    started = time.monotonic()
    fresh = client(app, "viewer").get("/api/hosts/h1/units?fresh=1")
    assert time.monotonic() - started < 8
    assert fresh.status_code in (502, 503, 504) and fresh.get_json()["error"] in (
        "unreachable", "timeout", "host_down")
    body = client(app).get("/api/hosts/h1/units").get_json()
    assert body["total"] > 200 and body["error"]["error"] == fresh.get_json()["error"]


def test_the_page_of_a_300_unit_host_carries_its_rows_in_one_request(app):
    units = [{"name": f"u{i:03d}.service", "type": "service", "load": "loaded",
              "active": "failed" if i % 97 == 0 else "active", "sub": "running",
              "file_state": "enabled", "preset": "enabled", "description": f"Unit number {i}"}
             for i in range(300)]
    with app.app_context():
        store.save("h2", tried_at=READ_AT, units=units)
    c = client(app)
    page = c.get("/hosts/h2")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    embedded = text.split('<script type="application/json" id="h-data">')[1].split("</script>")[0]
    data = json.loads(embedded)
    assert len(data["units"]) == 300 and data["units"][0]["name"] == "u000.service"
