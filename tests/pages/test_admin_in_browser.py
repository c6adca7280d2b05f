"""The admin pages in real Chromium against the live app and the real target: an admin adds a
user (generated password, shown once, that logs in), changes its role (a demotion is
confirmed), resets its password and removes it; creates an API token (shown once, with a copy
button), uses it against the API, revokes it and sees it refused; sends a test message through
a real webhook receiver and sees the outcome. An operator and a viewer get the 403 page from
every admin page and no Admin entry. axe-core finds nothing serious on the new pages in light
and dark, at desktop and phone width, and a phone never scrolls sideways."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_fixtures import PHONE, add_users
from notify_receivers import WebhookReceiver, hook_toml
from playwright.sync_api import expect
from terminal_fixtures import LiveServer, close_all

from recon.auth.accounts import find_user

DESKTOP = {"width": 1440, "height": 900}
PAGES = ("/admin/users", "/admin/tokens", "/admin/channels")


@pytest.fixture
def hook():
    receiver = WebhookReceiver(secret="hook-secret")
    yield receiver
    receiver.close()


@pytest.fixture
def admin_site(make_app, target_info, hook, monkeypatch, browsing):
    """RECON for the real target with one webhook channel, served over HTTP, one user a role."""
    monkeypatch.setenv("HOOK_SECRET", "hook-secret")
    app = make_app([target_info], extra_toml=hook_toml("ops", hook.url, secret_env="HOOK_SECRET"))
    add_users(app)
    server = LiveServer(app)
    server.app = app
    yield server
    browsing.frozen = True  # open pages would log the shutdown's refused requests
    server.stop()
    close_all(app)


def row(page, kind: str, name: str):
    return page.locator(f'tr[data-{kind}="{name}"]')


def confirm(page, button: str) -> None:
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_be_hidden()


def test_an_admin_adds_changes_resets_and_removes_a_user(browsing, admin_site):
    page = browsing.login(admin_site, "ada")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    page.wait_for_url(re.compile(r"/admin/users$"))
    expect(row(page, "user", "olga")).to_contain_text("operator")
    expect(row(page, "user", "ada")).to_contain_text("(you)")

    # Add: a generated password, shown once, that logs in.
    form = page.locator("#user-add")
    form.get_by_label("Username").fill("newbie")
    form.get_by_label("Role").select_option("operator")
    form.get_by_role("button", name="Add user").click()
    secret = page.locator("#secret")
    expect(secret).to_be_visible()
    expect(secret).to_contain_text("you will not see it again")
    password = page.locator("#secret-value").input_value()
    assert len(password) >= 16
    expect(row(page, "user", "newbie")).to_contain_text("never")
    expect(page.locator("#admin-status")).to_have_text("newbie was added as an operator.")
    other = browsing.login(admin_site, "newbie", password=password)
    expect(other.locator(".who-name")).to_have_text("newbie")
    page.get_by_role("button", name="Done, hide it").click()
    expect(secret).to_be_hidden()
    assert password not in page.content()

    # Change role: a demotion asks first; cancelling keeps the role.
    select = page.get_by_label("Role of newbie")
    select.select_option("viewer")
    confirm(page, "Cancel")
    expect(select).to_have_value("operator")
    select.select_option("viewer")
    expect(page.locator("#confirm-text")).to_contain_text("from operator to viewer")
    confirm(page, "Make viewer")
    expect(page.locator("#admin-status")).to_have_text("newbie is now a viewer.")
    with admin_site.app.app_context():
        assert find_user("newbie").role == "viewer"

    # Reset the password: set one, then a generated one (shown once).
    row(page, "user", "newbie").get_by_role("button", name="Reset the password of newbie").click()
    dialog = page.locator("dialog#passwd")
    dialog.get_by_label("Set it").check()
    dialog.get_by_label("Password", exact=True).fill("a brand new passphrase")
    dialog.get_by_role("button", name="Reset password").click()
    expect(page.locator("#admin-status")).to_have_text("The password of newbie was changed.")
    with admin_site.app.app_context():
        assert find_user("newbie").check_password("a brand new passphrase")
    other.goto("/")  # the reset ended newbie's session
    other.wait_for_url(re.compile(r"/login"))
    row(page, "user", "newbie").get_by_role("button", name="Reset the password of newbie").click()
    dialog.get_by_role("button", name="Reset password").click()
    expect(secret).to_be_visible()
    generated = page.locator("#secret-value").input_value()
    with admin_site.app.app_context():
        assert find_user("newbie").check_password(generated)

    # Remove, confirmed; the only admin offers no way out.
    row(page, "user", "newbie").get_by_role("button", name="Remove").click()
    confirm(page, "Remove user")
    expect(row(page, "user", "newbie")).to_have_count(0)
    expect(secret).to_be_hidden()  # its password opens nothing now
    with admin_site.app.app_context():
        assert find_user("newbie") is None
    expect(row(page, "user", "ada").get_by_role("button", name="Remove")).to_be_disabled()
    expect(row(page, "user", "ada")).to_contain_text("the only admin")
    entries = page.evaluate("""async () => (await (await fetch('/api/audit?actor=ada')).json())
        .entries.map(e => e.action)""")
    assert {"user_add", "user_change", "user_remove"} <= set(entries)
    browsing.shot(page, "admin-users-flow")


def test_an_admin_creates_a_token_sees_it_once_uses_it_and_revokes_it(browsing, admin_site):
    page = browsing.login(admin_site, "ada")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/admin/tokens")
    form = page.locator("#token-add")
    form.get_by_label("Name").fill("ci")
    form.get_by_label("Role").select_option("operator")
    form.get_by_role("button", name="Create token").click()
    secret = page.locator("#secret")
    expect(secret).to_be_visible()
    expect(secret).to_contain_text("you will not see it again")
    raw = page.locator("#secret-value").input_value()
    assert raw.startswith("recon_")
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator("#secret-copied")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == raw
    ci = row(page, "token", "ci")
    expect(ci).to_contain_text("active")
    expect(ci).to_contain_text("ada")  # created by
    expect(ci).to_contain_text("never")  # last used

    status, body, _ = admin_site.request("GET", "/api/services", token=raw)
    assert status == 200 and body["services"]
    page.reload()  # the value is gone for good: only the list, never the secret
    expect(row(page, "token", "ci")).not_to_contain_text("never")
    assert raw not in page.content()

    row(page, "token", "ci").get_by_role("button", name="Revoke").click()
    expect(page.locator("#confirm-text")).to_contain_text("refused from now on")
    confirm(page, "Revoke token")
    expect(row(page, "token", "ci")).to_contain_text("revoked")
    expect(row(page, "token", "ci").get_by_role("button", name="Revoke")).to_have_count(0)
    status, body, _ = admin_site.request("GET", "/api/services", token=raw)
    assert status == 401 and body["error"] == "unauthenticated"


def test_an_admin_sends_a_test_through_a_channel_and_sees_the_outcome(browsing, admin_site,
                                                                       hook):
    page = browsing.login(admin_site, "ada")
    page.goto("/admin/channels")
    card = page.locator('section[data-channel="ops"]')
    expect(card).to_contain_text("Nothing sent yet")
    expect(card).to_contain_text("yes (HMAC)")
    card.get_by_role("button", name="Send a test message through ops").click()
    expect(card.locator(".test-result")).to_contain_text("✓ Sent")
    expect(card).to_contain_text("Delivering")
    assert len(hook.received) == 1 and hook.received[0]["signature_ok"]
    assert hook.bodies()[0]["event"] == "test" and "requested by ada" in hook.bodies()[0]["text"]
    assert hook.url not in page.content() and "hook-secret" not in page.content()

    hook.close()  # the receiver goes away: the next test says so, with the reason
    card.get_by_role("button", name="Send a test message through ops").click()
    expect(card.locator(".test-result")).to_contain_text("✗ Not delivered (unreachable)")
    expect(card).to_contain_text("Retrying (1 failed)")
    expect(card.locator("dt:text-is('Last error') + dd")).to_contain_text("unreachable")
    # Chromium logs the expected 502 as a failed resource load; nothing else may be logged.
    assert [e for e in browsing.errors if "/api/notify/ops/test" in e and "502" in e]
    browsing.errors = [e for e in browsing.errors if "/api/notify/ops/test" not in e]


@pytest.mark.parametrize("username", ["olga", "vic"], ids=["operator", "viewer"])
def test_operators_and_viewers_get_the_403_page_and_no_admin_entry(browsing, admin_site,
                                                                   username, hook):
    page = browsing.login(admin_site, username)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Services")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    for url in (*PAGES, "/admin/"):
        resp = page.goto(url)
        assert resp.status == 403, url
        expect(page.locator("h1")).to_have_text("Not allowed")
        expect(page.locator("main")).to_contain_text("needs the admin role")
    status = page.evaluate("""async () => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/notify/ops/test', {method: 'POST', credentials:
          'same-origin', headers: {'X-CSRF-Token': token}});
        return r.status;
    }""")
    assert status == 403 and hook.received == []
    # Chromium logs each expected 403 as a failed resource load; nothing else may be logged.
    assert len(browsing.errors) == len(PAGES) + 2
    assert all("status of 403" in e for e in browsing.errors), browsing.errors
    browsing.errors = []


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport, scheme", [(DESKTOP, "light"), (PHONE, "light"),
                                               (DESKTOP, "dark"), (PHONE, "dark")],
                         ids=["1440x900", "390x844", "1440x900-dark", "390x844-dark"])
def test_the_admin_pages_pass_axe_and_fit_a_phone(browsing, admin_site, viewport, scheme):
    tag = f"{viewport['width']}x{viewport['height']}-{scheme}"
    page = browsing.login(admin_site, "ada", viewport=viewport)
    page.emulate_media(color_scheme=scheme)
    found: list[str] = []
    for url in PAGES:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        if url == "/admin/users":
            expect(row(page, "user", "ada")).to_be_visible()
        elif url == "/admin/tokens":  # with a secret on show, the page's busiest state
            page.locator("#token-add").get_by_label("Name").fill(f"shot-{tag}")
            page.get_by_role("button", name="Create token").click()
            expect(page.locator("#secret")).to_be_visible()
        else:
            card = page.locator('section[data-channel="ops"]')
            card.get_by_role("button", name="Send a test message through ops").click()
            expect(card.locator(".test-result")).to_contain_text("Sent")
        found += _violations(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
        name = f"admin-{url.rsplit('/', 1)[1]}-{tag}"
        browsing.shot(page, name, full_page=True)  # test-artifacts/, for the note
    page.goto("/admin/users")  # the dialogs open, too
    row(page, "user", "olga").get_by_role("button", name="Remove").click()
    expect(page.locator("dialog#confirm")).to_be_visible()
    found += _violations(page)
    browsing.shot(page, f"admin-users-confirm-{tag}")
    confirm(page, "Cancel")
    row(page, "user", "olga").get_by_role("button", name="Reset the password of olga").click()
    dialog = page.locator("dialog#passwd")
    dialog.get_by_label("Set it").check()
    expect(dialog.get_by_label("Password", exact=True)).to_be_visible()
    found += _violations(page)
    browsing.shot(page, f"admin-users-passwd-{tag}")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert not found, "axe-core found:\n" + "\n".join(found)
