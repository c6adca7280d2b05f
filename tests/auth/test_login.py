"""Who may do what: login, roles, tokens, CSRF, throttling, and the route walk."""

from __future__ import annotations

import logging
import re

import pytest
from conftest import client_for, token_client

from recon.auth.accounts import create_user
from recon.config import ServiceConfig
from recon.web.policy import Principal, may_act

PUBLIC = {"auth.login", "health.healthz", "static"}
PASSWORD = "correct horse battery"


def _url(rule) -> str:
    values = {arg: "x1" for arg in rule.arguments}
    url = rule.rule
    for arg, value in values.items():
        url = re.sub(r"<(?:[^:>]+:)?" + arg + ">", value, url)
    return url


def protected_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC]


def test_the_route_walk_covers_every_blueprint_and_only_the_named_public_routes(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert PUBLIC <= endpoints  # a renamed public route must be named here again
    walked = {r.endpoint.split(".")[0] for r in protected_rules(app)}
    assert set(app.blueprints) - {"health"} <= walked


def test_every_route_but_login_health_and_static_needs_a_user(app, anon):
    for rule in protected_rules(app):
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        resp = anon.open(_url(rule), method=method)
        if rule.rule.startswith("/api/"):
            assert resp.status_code == 401, (rule.rule, method, resp.status_code)
            assert resp.get_json()["error"] == "unauthenticated"
        else:
            assert resp.status_code in (302, 401), (rule.rule, method, resp.status_code)
            if resp.status_code == 302:
                assert "/login" in resp.headers["Location"]


def test_public_routes_answer_without_login(anon):
    assert anon.get("/healthz").status_code == 200
    assert anon.get("/login").status_code == 200
    assert anon.get("/static/recon.css").status_code == 200


def test_viewer_reads_but_cannot_act(app, target):
    viewer = client_for(app, "viewer")
    assert viewer.get("/api/services/demo-web/status").status_code == 200
    before = len(target.command_log())
    resp = viewer.post("/api/services/demo-web/restart")
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    assert len(target.command_log()) == before
    assert viewer.get("/api/audit").status_code == 403


def test_operator_cannot_administer_users_or_read_audit(app):
    op = client_for(app, "operator")
    assert op.get("/api/users").status_code == 403
    assert op.post("/api/users", json={"username": "x", "password": "y" * 12,
                                       "role": "admin"}).status_code == 403
    assert op.get("/api/audit").status_code == 403


def test_per_service_allow_list_limits_operators():
    svc = ServiceConfig("db", "DB", "h", "pg.service", frozenset({"restart"}),
                        allow=frozenset({"alice", "role:admin"}))
    assert may_act(Principal("alice", "operator"), svc)
    assert not may_act(Principal("bob", "operator"), svc)
    assert not may_act(Principal("alice", "viewer"), svc)
    assert may_act(Principal("root", "admin"), svc)


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


def test_token_works_without_csrf_and_revoked_token_is_refused(app):
    admin = client_for(app)
    made = admin.post("/api/tokens", json={"name": "ci", "role": "operator"})
    assert made.status_code == 201
    raw = made.get_json()["token"]
    tok = token_client(app, raw)
    assert tok.post("/api/services/demo-cron/restart").status_code == 200
    listed = admin.get("/api/tokens").get_json()["tokens"]
    assert raw not in str(listed) and any(t["name"] == "ci" and t["last_used_at"]
                                          for t in listed)
    assert admin.delete("/api/tokens/ci").status_code == 200
    assert tok.get("/api/services").status_code == 401


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


def test_admin_manages_users_through_the_api(app):
    admin = client_for(app)
    made = admin.post("/api/users", json={"username": "vic", "password": PASSWORD,
                                          "role": "viewer"})
    assert made.status_code == 201
    assert admin.post("/api/users", json={"username": "vic", "password": PASSWORD,
                                          "role": "viewer"}).status_code == 409
    weak = admin.post("/api/users", json={"username": "w", "password": "short",
                                          "role": "viewer"})
    assert weak.status_code == 400 and weak.get_json()["error"] == "weak_password"
    newline = admin.post("/api/users", json={"username": "vic\n", "password": PASSWORD,
                                             "role": "viewer"})
    assert newline.status_code == 400 and newline.get_json()["error"] == "invalid_username"
    assert admin.patch("/api/users/vic", json={"role": "operator"}).get_json()["role"] == \
        "operator"
    assert admin.delete("/api/users/vic").status_code == 200
    assert admin.delete("/api/users/vic").status_code == 404


def test_cli_manages_users_and_tokens(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "users", "add", "carol", "--role", "viewer",
                              "--generate"])
    assert out.exit_code == 0 and "password (shown once)" in out.output
    assert "carol\tviewer" in runner.invoke(args=["recon", "users", "list"]).output
    assert runner.invoke(args=["recon", "users", "passwd", "carol", "--generate"]).exit_code == 0
    out = runner.invoke(args=["recon", "tokens", "add", "backup", "--role", "viewer"])
    raw = out.output.strip().splitlines()[-1]
    assert raw.startswith("recon_")
    listing = runner.invoke(args=["recon", "tokens", "list"]).output
    assert "backup" in listing and raw not in listing
    assert runner.invoke(args=["recon", "tokens", "revoke", "backup"]).exit_code == 0
    assert runner.invoke(args=["recon", "users", "remove", "carol"]).exit_code == 0
    assert runner.invoke(args=["recon", "users", "remove", "carol"]).exit_code == 1


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
