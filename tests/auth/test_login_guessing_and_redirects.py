"""Password guessing and redirects after login (issue 12): throttling that a stranger cannot
turn against the owner, and no open redirect."""

from __future__ import annotations

import re

import pytest
from conftest import client_for

from recon.auth.accounts import create_user

PASSWORD = "correct horse battery"


@pytest.fixture
def admin_user(app):
    with app.app_context():
        create_user("boss", PASSWORD, "admin")
    return "boss"


def login(c, username, password=PASSWORD, addr="10.0.0.1", nxt=None):
    env = {"REMOTE_ADDR": addr}
    page = c.get("/login", environ_base=env).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"username": username, "password": password, "csrf_token": csrf}
    if nxt is not None:
        data["next"] = nxt
    return c.post("/login", data=data, environ_base=env)


def test_wrong_passwords_from_many_addresses_do_not_lock_out_the_owner(app, admin_user):
    for i in range(5):
        for _ in range(2):
            assert login(app.test_client(), admin_user, "wrong-password!",
                         addr=f"192.0.2.{i + 1}").status_code == 401
    resp = login(app.test_client(), admin_user, addr="198.51.100.7")
    assert resp.status_code == 302


def test_one_address_guessing_is_throttled_for_that_address_only(app, admin_user):
    codes = [login(app.test_client(), admin_user, f"wrong-{i}-password",
                   addr="192.0.2.50").status_code for i in range(8)]
    assert codes[:5] == [401] * 5 and 429 in codes
    # The attacker's address waits, even with the right password ...
    assert login(app.test_client(), admin_user, addr="192.0.2.50").status_code == 429
    # ... and spraying other accounts from it soon waits too (per-address throttle).
    codes = [login(app.test_client(), f"user{i}", "x" * 12, addr="192.0.2.50").status_code
             for i in range(20)]
    assert codes[-1] == 429 and codes.count(401) == 16
    # The owner from a clean address logs in at once.
    assert login(app.test_client(), admin_user, addr="198.51.100.8").status_code == 302
    entries = client_for(app).get("/api/audit?action=login&limit=100").get_json()["entries"]
    assert sum(1 for e in entries if e["actor"] == admin_user) == 10  # every attempt audited


@pytest.mark.parametrize("nxt", [
    "/%09/evil.example", "/\t/evil.example", "//evil.example", "/\\evil.example",
    "\\\\evil.example", "https://evil.example/", "javascript:alert(1)", "/\r\n/evil.example",
    " //evil.example", "/%2F/evil.example", "http:/evil.example", "/%5Cevil.example",
])
def test_login_never_redirects_off_site(app, admin_user, nxt):
    resp = login(app.test_client(), admin_user, nxt=nxt)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location == "/", (nxt, location)


def test_login_keeps_a_path_on_this_site(app, admin_user):
    resp = login(app.test_client(), admin_user, nxt="/audit?action=login")
    assert resp.headers["Location"] == "/audit?action=login"
