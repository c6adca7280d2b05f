"""Issue 12, limits and secrets at rest: headers on every HTML page, body size limit,
/healthz discloses no paths, instance files private."""

from __future__ import annotations

import logging
import re
import stat

from conftest import build_app, client_for

from recon.auth.accounts import create_user
from recon.web.context import runtime

PASSWORD = "correct horse battery"


def session_client(app, role="admin"):
    with app.app_context():
        create_user(f"page-{role}", PASSWORD, role)
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert c.post("/login", data={"username": f"page-{role}", "password": PASSWORD,
                                  "csrf_token": csrf}).status_code == 302
    return c


def _url(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(r"<(?:[^:>]+:)?" + arg + ">", "x1", url)
    return url


def assert_unframable(resp, where):
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, (where, csp)
    assert resp.headers.get("X-Frame-Options") == "DENY", where


def test_every_html_route_sends_csp_and_frame_deny(app):
    c = session_client(app)
    anon = app.test_client()
    html_seen = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.websocket or rule.endpoint == "static":
            continue
        for who, client in (("admin", c), ("anonymous", anon)):
            resp = client.get(_url(rule))
            if resp.mimetype == "text/html":
                html_seen.add(rule.rule)
                assert_unframable(resp, (who, rule.rule))
    assert {"/", "/audit", "/login"} <= html_seen
    for path in ("/no-such-page", "/login?next=/audit"):
        assert_unframable(anon.get(path), path)
    viewer = session_client(app, "viewer")
    forbidden = viewer.get("/audit")
    assert forbidden.status_code == 403
    assert_unframable(forbidden, "/audit as viewer")


def test_a_body_over_the_limit_is_a_json_413(make_app, target_info):
    app = make_app([target_info])
    admin = client_for(app)
    big = {"username": "x", "password": "p" * (1024 * 1024 + 10), "role": "viewer"}
    resp = admin.post("/api/users", json=big)
    assert resp.status_code == 413
    body = resp.get_json()
    assert body["error"] == "request_entity_too_large" and body["hint"] and body["message"]
    assert client_for(app).get("/api/users").get_json()["users"] == []
    small = admin.post("/api/users", json={"username": "ok", "password": PASSWORD,
                                           "role": "viewer"})
    assert small.status_code == 201


def test_the_body_limit_is_a_setting(monkeypatch, make_app, target_info):
    monkeypatch.setenv("RECON_MAX_REQUEST_BYTES", "2000")
    app = make_app([target_info])
    resp = client_for(app).post("/api/users", json={"username": "x", "password": "p" * 3000,
                                                    "role": "viewer"})
    assert resp.status_code == 413


def test_healthz_does_not_disclose_the_config_path(app, anon):
    text = anon.get("/healthz").get_data(as_text=True)
    source = str(runtime(app).config.source)
    assert source not in text and "recon.toml" not in text and "/" not in text.replace(
        "\\/", "")


def test_database_and_its_wal_are_private(tmp_path, target_info):
    app = build_app(tmp_path, [target_info])
    client_for(app).get("/api/audit")  # a write and a read: -wal and -shm exist now
    for name in ("recon.db", "recon.db-wal", "recon.db-shm"):
        path = tmp_path / name
        assert path.exists(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    runtime(app).executor.close_all()


def test_a_looser_existing_database_is_named_in_a_warning(tmp_path, target_info, caplog):
    db = tmp_path / "recon.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="recon.db.instance")
    app = build_app(tmp_path, [target_info])
    assert any(str(db) in r.getMessage() and "chmod 0600" in r.getMessage()
               for r in caplog.records), caplog.text
    runtime(app).executor.close_all()
