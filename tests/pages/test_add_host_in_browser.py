"""The whole add-host flow in Chromium as an admin, against a real host with none of
RECON's rules: the key shown and confirmed, what to install, the checks with their fixes,
then a unit chosen on the manage form (its sudoers lines shown before saving), checked, and
started and stopped from the dashboard. Operators and viewers get no admin pages."""

from __future__ import annotations

import re

import pytest
from browser_fixtures import DESKTOP, PHONE
from fresh_host import install_sudoers
from playwright.sync_api import expect


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_admin_adds_a_host_and_manages_a_unit_in_the_browser(browsing, dashboard, fresh,
                                                                viewport):
    info = fresh.info
    page = browsing.login(dashboard, "ada", viewport)
    page.goto("/add-host")
    page.get_by_label("Name").fill("fresh")
    page.get_by_label("Address").fill(info.address)
    page.get_by_label("Login user").fill(info.user)
    page.get_by_label("Dashboard key").fill(str(info.key_path))
    page.get_by_role("button", name="Fetch the host's key").click()
    expect(page.locator("#key-fp")).to_contain_text("SHA256:")
    expect(page.locator("#key-verify")).to_contain_text("ssh-keygen -lf")
    expect(page.locator("#key-note")).to_contain_text("never seen this host")
    name = "add-host-key-" + ("phone" if viewport is PHONE else "desktop")
    browsing.shot(page, name, full_page=True)
    page.get_by_role("button", name=re.compile("It matches")).click()
    expect(page.locator("#install-key")).to_contain_text("ssh-ed25519 ")
    page.get_by_role("button", name="Run the checks").click()
    expect(page.locator("#check-status")).to_contain_text("Every check passed")
    browsing.shot(page, name.replace("key", "added"), full_page=True)

    expect(page.get_by_role("link", name=re.compile("Choose its units"))).to_have_attribute(
        "href", "/hosts/fresh")
    page.goto("/hosts/fresh/manage?unit=demo-web.service")
    expect(page.locator("#rules")).to_contain_text("systemctl restart demo-web.service")
    page.get_by_label("restart").uncheck()
    expect(page.locator("#rules")).not_to_contain_text("restart")
    expect(page.locator("#rules")).to_contain_text("systemctl stop demo-web.service")
    page.get_by_label("Slug").fill("Bad Slug")
    expect(page.locator("#form-error")).to_contain_text("slug")
    page.get_by_label("Slug").fill("fresh-web")
    expect(page.locator("#form-error")).to_be_hidden()
    browsing.shot(page, name.replace("key", "manage"), full_page=True)
    page.get_by_role("button", name="Save to recon.toml").click()
    expect(page.locator("#sudoers")).to_contain_text("systemctl stop demo-web.service")
    page.get_by_role("button", name="Run the checks").click()
    expect(page.locator("#check-status")).to_contain_text("Some checks failed")
    expect(page.locator("#gates .gate-bad .hint").first).to_contain_text("Fix:")
    install_sudoers(fresh, page.locator("#sudoers").inner_text())
    page.get_by_role("button", name="Run the checks").click()
    expect(page.locator("#check-status")).to_contain_text("Every check passed")

    page.goto("/")
    row = page.locator('[data-slug="fresh-web"]')
    expect(row).to_be_visible(timeout=15_000)
    for action, state in (("stop", "inactive"), ("start", "active")):
        if viewport is PHONE and action == "stop":  # a running row's actions: behind Details
            row.get_by_role("button", name=re.compile("^Details of")).click()
        row.locator(f'button[data-action="{action}"]').click()
        confirm = page.locator("#confirm")
        if confirm.is_visible():
            page.locator("#confirm-ok").click()
        expect(page.locator('[data-slug="fresh-web"]')).to_have_attribute(
            "data-state", "stopped" if action == "stop" else "running", timeout=15_000)
        assert fresh.show("demo-web.service", "ActiveState")["ActiveState"] == state
    # The one refusal the test provoked (the bad slug's preview) is the only console error.
    refused = [e for e in browsing.errors if "/api/onboarding/services/preview" in e
               and "422" in e]
    browsing.errors = [e for e in browsing.errors if e not in refused]
    assert len(refused) >= 1
    browsing.assert_no_console_errors()


@pytest.mark.parametrize("username", ["olga", "vic"])
def test_operators_and_viewers_get_no_admin_pages_or_controls(browsing, dashboard, username):
    page = browsing.login(dashboard, username)
    for path in ("/add-host", "/hosts/demo/manage?unit=demo-flaky.service"):
        resp = page.goto(path)
        assert resp.status == 403, path
    browsing.errors = [e for e in browsing.errors if "403" not in e]
    page.goto("/")
    expect(page.get_by_role("link", name=re.compile("Add a host"))).to_have_count(0)
    browsing.assert_no_console_errors()


def test_an_admin_stops_managing_a_service_from_its_page(browsing, dashboard):
    page = browsing.login(dashboard, "ada")
    page.goto("/services/demo-cron")
    page.get_by_role("button", name="Stop managing").click()
    expect(page.locator("#confirm")).to_contain_text("keeps running")
    page.locator("#confirm-ok").click()
    page.wait_for_url(re.compile(r"/hosts/demo$"))
    status = page.evaluate("async () => (await fetch('/api/services/demo-cron/status')).status")
    assert status == 404
    browsing.errors = [e for e in browsing.errors if "demo-cron/status" not in e]
    browsing.assert_no_console_errors()
