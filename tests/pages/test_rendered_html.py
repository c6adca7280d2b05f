"""What the pages render on the server, before any script runs: the buttons each user may
use, the admin-only audit page, escaping of configured names, and the security headers."""

from __future__ import annotations

import dataclasses
import posixpath
import re

import pytest
from conftest import client_for

from recon.audit import store as audit
from recon.auth.accounts import create_user
from recon.web.context import runtime

PASSWORD = "correct-horse-battery"


def actions_of(html: str, slug: str) -> list[str]:
    article = re.search(rf'<article class="svc" data-slug="{slug}".*?</article>', html, re.S)
    assert article, f"no panel for {slug}"
    return re.findall(r'data-action="([\w-]+)"', article.group(0))


def page(app, role: str, path: str = "/"):
    return client_for(app, role).get(path)


def test_each_role_sees_only_the_actions_the_service_allows_and_the_role_may_run(app):
    viewer = page(app, "viewer").get_data(as_text=True)
    assert "data-action=" not in viewer and "data-terminal=" not in viewer
    assert viewer.count("data-logs") == 4  # reading logs is a viewer's right
    setup = {"operator": ["enable", "disable", "reset-failed"],
             "admin": ["enable", "disable", "reset-failed", "mask", "unmask"]}
    for role in ("operator", "admin"):
        html = page(app, role).get_data(as_text=True)
        # the row's actions, then the detail's opt-in setup actions (mask/unmask: admins)
        assert actions_of(html, "demo-web") == ["start", "stop", "restart", "reload",
                                                *setup[role]]
        assert actions_of(html, "demo-cron") == ["start", "stop", "restart"]  # no reload
        assert actions_of(html, "demo-stuck") == ["reload"]
        assert 'data-terminal="demo"' in html


def test_an_allow_list_hides_the_buttons_from_operators_it_does_not_name(app):
    services = runtime(app).config.services
    services["demo-web"] = dataclasses.replace(services["demo-web"],
                                               allow=frozenset({"role:admin", "olga"}))
    assert actions_of(page(app, "operator").get_data(as_text=True), "demo-web") == []
    assert actions_of(page(app, "admin").get_data(as_text=True), "demo-web") != []
    with app.app_context():
        create_user("olga", PASSWORD, "operator")
    c = app.test_client()
    form = c.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    resp = c.post("/login", data={"username": "olga", "password": PASSWORD,
                                  "csrf_token": csrf, "next": "/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert actions_of(c.get("/").get_data(as_text=True), "demo-web") != []


def test_login_without_next_lands_on_the_dashboard(app):
    html = app.test_client().get("/login").get_data(as_text=True)
    assert re.search(r'name="next" value="/"', html)


@pytest.mark.parametrize("role,status", [("viewer", 403), ("operator", 403), ("admin", 200)])
def test_the_audit_page_is_for_admins_only(app, role, status):
    with app.app_context():
        audit.record("terminal.open", success=True, host="demo", actor="olga")
    resp = page(app, role, "/audit")
    assert resp.status_code == status
    html = resp.get_data(as_text=True)
    if status == 403:
        assert "Not allowed" in html and "audit.js" not in html
    else:
        assert 'id="audit-filters"' in html and "/static/pages/audit.js" in html
        # the filters offer what the trail holds
        assert "<option>terminal.open</option>" in html and '<option value="olga">' in html
    nav_has_audit = 'href="/audit"' in page(app, role).get_data(as_text=True)
    assert nav_has_audit is (role == "admin")


def test_configured_names_are_escaped(app):
    services = runtime(app).config.services
    services["demo-web"] = dataclasses.replace(services["demo-web"],
                                               name='<img src=x onerror="alert(1)">')
    html = page(app, "operator").get_data(as_text=True)
    assert '<img src=x' not in html
    assert "&lt;img src=x onerror=" in html


def test_pages_forbid_inline_script_and_framing(app):
    for path in ("/", "/audit"):
        resp = page(app, "admin", path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        html = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_the_dashboard_preloads_every_module_its_script_imports(app):
    # A module left out still loads, but one round trip later than the rest: the first paint
    # waits for the slowest chain of imports.
    client = client_for(app, "viewer")
    html = client.get("/").get_data(as_text=True)
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/([\w./]+)"', html))
    imported, todo = set(), ["pages/dashboard.js"]
    while todo:
        name = todo.pop()
        if name in imported:
            continue
        imported.add(name)
        resp = client.get(f"/static/{name}")
        assert resp.status_code == 200, name
        source = resp.get_data(as_text=True)
        specs = re.findall(r'^import\b[^;]*?"(\.\.?/[\w./]+)";', source, re.M)
        statements = re.findall(r"^import\b", source, re.M)
        assert len(specs) == len(statements), f"{name} has an import the walk cannot follow"
        for spec in specs:
            # resolved as the browser does: relative to the importing module's URL
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), spec))
            assert not target.startswith("../"), f"{name} imports {spec}, outside /static/"
            todo.append(target)
    assert len(imported) > 5  # the walk followed the imports
    assert {n.split("/")[0] for n in imported} == {"pages", "lib"}  # ... from pages/ into lib/
    assert preloaded == imported
