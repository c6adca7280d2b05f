"""Who may reach what: every route but login, health and static needs a user (walked over
app.url_map, so a new route cannot skip it), a viewer reads but cannot act, an operator cannot
administer, and a revoked token is refused."""

from __future__ import annotations

import re

from conftest import client_for, token_client

PUBLIC = {"auth.login", "health.healthz", "static"}


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
    assert anon.get("/static/css/recon.css").status_code == 200


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
