"""Security headers (issue 12): every HTML route, for every caller and on error pages, sends
a CSP with frame-ancestors 'none' and X-Frame-Options DENY; every answer to an authenticated
request says ``Cache-Control: no-store`` (issue 24), static files stay cacheable."""

from __future__ import annotations

import re

import pytest
from conftest import client_for

from recon.auth.accounts import create_user

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


# Issue 24, item 10: what an authenticated caller was shown must not stay in a browser's or a
# shared cache (the status of every service, a unit file, logs, metrics, the dashboard).
AUTHENTICATED_ROUTES = ["/api/services", "/api/services/demo-web/status",
                        "/api/services/demo-web/unit", "/api/services/demo-web/logs.txt",
                        "/api/services/demo-web/logs?lines=5", "/api/audit", "/api/me",
                        "/metrics", "/", "/services/demo-web", "/audit",
                        "/api/services/nope/status",  # an error answer too
                        "/api/events", "/api/services/demo-web/logs/stream?lines=0"]


@pytest.mark.parametrize("path", AUTHENTICATED_ROUTES)
def test_every_answer_to_an_authenticated_request_says_no_store(app, path):
    token = client_for(app, "admin")
    session = session_client(app)
    for who, c in (("token", token), ("session", session)):
        resp = c.get(path, buffered=False)  # streams: the headers, not the whole stream
        try:
            assert resp.status_code < 500, (who, path, resp.status_code)
            assert "no-store" in resp.headers.get("Cache-Control", ""), (who, path,
                                                                          resp.headers)
        finally:
            resp.close()


def test_static_files_stay_cacheable_for_a_logged_in_user(app):
    client = session_client(app)
    for path in ("/static/favicon.svg", "/static/css/recon.css", "/static/lib/recon.js"):
        resp = client.get(path)
        assert resp.status_code == 200
        assert "no-store" not in resp.headers.get("Cache-Control", ""), path
        resp.close()
