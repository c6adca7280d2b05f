"""Logging in: the form with its CSRF token, a session cookie that logout ends, CSRF on every
action a session sends, throttled wrong passwords (audited), a user header trusted only from
the configured proxies, and no password or token in the logs."""

from __future__ import annotations

import logging
import re

import pytest
from conftest import client_for, token_client

from recon.auth.accounts import create_user

PASSWORD = "correct horse battery"


@pytest.fixture
def user(app):
    with app.app_context():
        create_user("olivia", PASSWORD, "operator")
    return "olivia"


def login(c, username, password=PASSWORD):
    page = c.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return c.post("/login", data={"username": username, "password": password,
                                  "csrf_token": csrf})


def test_session_login_needs_csrf_on_actions_and_logout_ends_it(app, user):
    c = app.test_client()
    resp = login(c, user)
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = c.get("/api/me").get_json()
    assert me["username"] == user and me["role"] == "operator"
    no_csrf = c.post("/api/services/demo-cron/restart")
    assert no_csrf.status_code == 403 and no_csrf.get_json()["error"] == "csrf_failed"
    ok = c.post("/api/services/demo-cron/restart", headers={"X-CSRF-Token": me["csrf_token"]})
    assert ok.status_code == 200 and ok.get_json()["success"] is True
    stolen = c.get_cookie("session").value
    c.post("/logout", headers={"X-CSRF-Token": me["csrf_token"]})
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/api/me").status_code == 401


def test_login_without_next_lands_on_the_dashboard(app, user):
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = c.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": csrf})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    c2 = app.test_client()
    page = c2.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    evil = c2.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": csrf,
                                   "next": "//evil.example/"})
    assert evil.headers["Location"] == "/"  # no open redirect


def test_login_form_without_its_csrf_token_is_refused(app, user):
    c = app.test_client()
    c.get("/login")
    resp = c.post("/login", data={"username": user, "password": PASSWORD})
    assert resp.status_code == 400
    assert c.get("/api/me").status_code == 401


def test_ten_wrong_passwords_do_not_let_the_eleventh_through_and_are_audited(app, user):
    c = app.test_client()
    codes = [login(c, user, f"wrong-password-{i}").status_code for i in range(10)]
    assert codes[:5] == [401] * 5 and 429 in codes
    assert login(c, user).status_code == 429  # even the right password must wait
    entries = client_for(app).get("/api/audit?action=login&limit=50").get_json()["entries"]
    # the ten wrong guesses and the throttled eleventh attempt
    assert sum(1 for e in entries if not e["success"] and e["actor"] == user) == 11


def test_trusted_proxy_header_only_from_configured_addresses(app, user):
    app.config.update(RECON_PROXY_USER_HEADER="X-Forwarded-User",
                      RECON_TRUSTED_PROXIES=["10.9.9.9"])
    c = app.test_client()
    trusted = c.get("/api/me", headers={"X-Forwarded-User": user},
                    environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert trusted.status_code == 200 and trusted.get_json()["username"] == user
    spoofed = c.get("/api/me", headers={"X-Forwarded-User": user},
                    environ_base={"REMOTE_ADDR": "10.0.0.66"})
    assert spoofed.status_code == 401


def test_passwords_and_tokens_never_reach_the_logs(app, user, caplog):
    caplog.set_level(logging.DEBUG)
    c = app.test_client()
    login(c, user)
    login(app.test_client(), user, "the-wrong-secret-xyz")
    raw = client_for(app).post("/api/tokens", json={"name": "t2", "role": "viewer"}) \
        .get_json()["token"]
    token_client(app, raw).get("/api/services")
    text = caplog.text
    assert PASSWORD not in text and "the-wrong-secret-xyz" not in text and raw not in text
