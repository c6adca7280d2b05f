"""The admin pages (recon.pages.admin) and the admin API they call, without a host: an admin
gets each page (and the Admin entry in the nav); an operator and a viewer get the 403 page
from every admin page and a 403 from every admin API route (found by walking app.url_map, so a
new admin route is covered), and see no admin controls; a browser session must send the CSRF
token to change anything, and what it changes is audited under the user's name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from notify_receivers import WebhookReceiver, hook_toml
from pg_cluster import app_database_uri

from recon import create_app
from recon.auth.accounts import create_token, create_user

PASSWORD = "correct horse battery"
PAGES = {"/admin/users": "Users", "/admin/tokens": "API tokens",
         "/admin/channels": "Notification channels"}
ROLES = ("viewer", "operator", "admin")


@pytest.fixture
def hook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def app(tmp_path: Path, hook: WebhookReceiver) -> Flask:
    """No hosts at all (nothing connects), one webhook channel, a user and a token per role."""
    config = tmp_path / "recon.toml"
    config.write_text(hook_toml("ops", hook.url))
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})
    with app.app_context():
        app.config["TOKENS"] = {role: create_token(f"t-{role}", role)[1] for role in ROLES}
        for role in ROLES:
            create_user(f"u-{role}", PASSWORD, role)
    return app


def logged_in(app: Flask, role: str):
    """A test client logged in through the login form, and its CSRF token."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    resp = client.post("/login", data={"username": f"u-{role}", "password": PASSWORD,
                                       "csrf_token": csrf})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get("/admin/users" if role == "admin" else "/").get_data(as_text=True)
    return client, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def token_client(app: Flask, role: str):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {app.config['TOKENS'][role]}"
    return client


def admin_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, url) of every route only admins may use: the admin pages and each view that
    ``require_role("admin")`` guards."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint.startswith("admin.") or getattr(view, "required_role", "") == "admin":
            url = re.sub(r"<(?:[^:>]+:)?[^>]+>", "x1", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, url))
    return found


def test_the_walk_finds_the_pages_and_the_user_token_and_channel_routes(app):
    found = admin_routes(app)
    for expected in [("GET", "/admin/users"), ("GET", "/admin/tokens"),
                     ("GET", "/admin/channels"), ("GET", "/api/users"), ("POST", "/api/users"),
                     ("PATCH", "/api/users/x1"), ("DELETE", "/api/users/x1"),
                     ("GET", "/api/tokens"), ("POST", "/api/tokens"),
                     ("DELETE", "/api/tokens/x1"), ("POST", "/api/notify/x1/test")]:
        assert expected in found


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_operators_and_viewers_are_refused_every_admin_page_and_route(app, hook, role):
    tok = token_client(app, role)
    session, csrf = logged_in(app, role)
    for method, url in admin_routes(app):
        for client, headers in ((tok, {}), (session, {"X-CSRF-Token": csrf})):
            resp = client.open(url, method=method, headers=headers, json={})
            assert resp.status_code == 403, (role, method, url, resp.status_code)
            if url.startswith("/api/"):
                assert resp.get_json()["error"] == "forbidden"
            else:
                assert "Not allowed" in resp.get_data(as_text=True)
                assert "<strong>admin</strong> role" in resp.get_data(as_text=True)
    assert hook.received == []  # no test message went out


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_operators_and_viewers_see_no_admin_controls(app, role):
    session, _ = logged_in(app, role)
    page = session.get("/").get_data(as_text=True)
    assert "/admin/" not in page and ">Admin<" not in page and ">Audit<" not in page
    assert "/api/notify/NAME/test" not in page  # the banner's admin hint


def test_an_admin_gets_each_page_with_its_tabs_and_the_nav_entry(app):
    session, _ = logged_in(app, "admin")
    for url, title in PAGES.items():
        resp = session.get(url)
        page = resp.get_data(as_text=True)
        assert resp.status_code == 200, url
        assert f"<h1>{title}</h1>" in page
        assert re.search(r'<a href="/admin/users" aria-current="page">Admin</a>', page)
        assert page.count('aria-current="page"') == 2  # the nav entry and this page's tab
        assert 'id="confirm"' in page
    assert session.get("/admin/").headers["Location"].endswith("/admin/users")
    home = session.get("/").get_data(as_text=True)
    assert '<a href="/admin/users">Admin</a>' in home


def test_a_session_must_send_the_csrf_token_and_its_changes_are_audited_as_the_user(app):
    session, csrf = logged_in(app, "admin")
    body = {"username": "newbie", "password": PASSWORD, "role": "viewer"}
    refused = session.post("/api/users", json=body)
    assert refused.status_code == 403 and refused.get_json()["error"] == "csrf_failed"
    assert "newbie" not in str(session.get("/api/users").get_json())
    made = session.post("/api/users", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    admin = token_client(app, "admin")
    entries = admin.get("/api/audit?action=user_add").get_json()["entries"]
    assert entries[0]["actor"] == "u-admin" and entries[0]["output"] == "newbie (viewer)"


def test_the_users_list_says_when_each_user_last_logged_in(app):
    admin = token_client(app, "admin")
    before = {u["username"]: u for u in admin.get("/api/users").get_json()["users"]}
    assert before["u-viewer"]["last_login_at"] is None
    logged_in(app, "viewer")
    after = {u["username"]: u for u in admin.get("/api/users").get_json()["users"]}
    assert after["u-viewer"]["last_login_at"] and after["u-operator"]["last_login_at"] is None


def test_the_tokens_list_names_who_created_a_token_and_never_a_value(app):
    session, csrf = logged_in(app, "admin")
    made = session.post("/api/tokens", json={"name": "backup", "role": "viewer"},
                        headers={"X-CSRF-Token": csrf}).get_json()
    listed = session.get("/api/tokens").get_json()["tokens"]
    by_name = {t["name"]: t for t in listed}
    assert by_name["backup"]["created_by"] == "u-admin"
    assert by_name["t-admin"]["created_by"] is None  # made outside the API: not known
    assert made["token"] not in str(listed) and "token" not in by_name["backup"]


def test_a_session_sends_a_test_through_a_channel_and_gets_the_outcome(app, hook):
    session, csrf = logged_in(app, "admin")
    resp = session.post("/api/notify/ops/test", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and resp.get_json()["success"] is True
    assert hook.bodies("test")[0]["text"].endswith("requested by u-admin.")
    status = session.get("/api/notify").get_json()["channels"][0]
    assert status["sent"] == 1 and status["last_ok_at"]
