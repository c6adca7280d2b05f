"""Security headers (issue 12): every HTML route, for every caller and on error pages, sends
a CSP with frame-ancestors 'none' and X-Frame-Options DENY."""

from __future__ import annotations

import re

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
