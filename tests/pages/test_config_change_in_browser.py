"""An open dashboard follows recon.toml: a service added (here through the API the manage
form calls) is on the page within seconds without a click, and a page with an open log
drawer is not cut short -- it says what changed and offers the reload."""

from __future__ import annotations

from conftest import client_for
from playwright.sync_api import expect

NEW = {"host": "demo", "unit": "demo-flaky.service", "slug": "flaky-live"}


def test_an_open_page_shows_a_newly_managed_unit_by_itself(browsing, dashboard):
    page = browsing.login(dashboard, "vic")
    page.wait_for_selector("html[data-status-loaded]")
    assert client_for(dashboard.app, "admin").post("/api/config/services",
                                                   json=NEW).status_code == 201
    row = page.locator('[data-slug="flaky-live"]')
    expect(row).to_be_visible(timeout=5_000)
    expect(row).not_to_have_attribute("data-state", "loading", timeout=5_000)
    browsing.assert_no_console_errors()


def test_a_page_with_its_logs_open_is_told_instead_of_reloaded(browsing, dashboard):
    page = browsing.login(dashboard, "olga")
    page.wait_for_selector("html[data-status-loaded]")
    page.locator('[data-slug="demo-web"]').get_by_role("button", name="Logs").first.click()
    expect(page.locator("#logs")).to_be_visible()
    assert client_for(dashboard.app, "admin").post("/api/config/services",
                                                   json=NEW).status_code == 201
    note = page.locator("#config-changed")
    expect(note).to_contain_text("1 service added", timeout=5_000)
    expect(page.locator("#logs")).to_be_visible()  # still open: nothing was cut short
    note.get_by_role("button", name="Reload the page").click()
    expect(page.locator('[data-slug="flaky-live"]')).to_be_visible()
    browsing.assert_no_console_errors()
