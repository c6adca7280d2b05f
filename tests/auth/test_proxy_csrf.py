"""A user named by the auth proxy's header is a browser with an ambient credential (the
proxy's cookie, Basic auth or client certificate), so its state-changing requests need the
CSRF token like a session's (issue 24, item 2)."""

from __future__ import annotations

import re

import pytest
from conftest import client_for, requested_commands

from recon.auth.accounts import create_user

PEER = {"REMOTE_ADDR": "10.9.9.9"}  # the trusted auth proxy
HEADER = "X-Remote-User"


@pytest.fixture
def proxied(app):
    """The app behind an auth proxy at 10.9.9.9 that names its user in X-Remote-User."""
    app.config.update(RECON_PROXY_USER_HEADER=HEADER, RECON_TRUSTED_PROXIES=["10.9.9.9"])
    with app.app_context():
        create_user("op1", "correct horse battery", "operator")
    return app


def restarts(commands: list[str]) -> list[str]:
    return [c for c in requested_commands(commands) if " restart " in c]


def test_a_cross_site_form_post_through_the_auth_proxy_is_refused(proxied, target):
    before = len(target.command_log())
    resp = proxied.test_client().post(
        "/api/services/demo-cron/restart", data={"anything": "1"},
        headers={HEADER: "op1", "Origin": "http://evil.example"}, environ_base=PEER)
    assert resp.status_code == 403, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["error"] == "csrf_failed" and body["hint"]
    assert restarts(target.command_log()[before:]) == []
    entries = client_for(proxied).get("/api/audit?actor=op1").get_json()["entries"]
    assert [(e["action"], e["service"], e["success"], e["error"]) for e in entries] == [
        ("restart", "demo-cron", False, "csrf_failed")]


def test_a_same_origin_proxy_user_with_the_csrf_token_still_acts(proxied, target):
    browser = proxied.test_client()
    page = browser.get("/", headers={HEADER: "op1"}, environ_base=PEER)
    assert page.status_code == 200
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"',
                      page.get_data(as_text=True)).group(1)
    me = browser.get("/api/me", headers={HEADER: "op1"}, environ_base=PEER).get_json()
    assert me["via"] == "proxy" and me["csrf_token"] == token
    before = len(target.command_log())
    resp = browser.post("/api/services/demo-cron/restart",
                        headers={HEADER: "op1", "X-CSRF-Token": token,
                                 "Origin": "http://localhost"}, environ_base=PEER)
    assert resp.status_code == 200 and resp.get_json()["success"] is True
    assert len(restarts(target.command_log()[before:])) == 1
