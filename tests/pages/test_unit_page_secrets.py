"""The unit page in the browser never shows a viewer or an operator the unit's secrets: the
rendered page (file, status, every property) holds the redacted text and says so."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

SECRET = "hunter2"


@pytest.fixture
def secret_dropin(target):
    target.set_dropin("demo-worker.service", "secret",
                      f"[Service]\nEnvironment=DB_PASSWORD={SECRET}\n"
                      f"ExecStartPre=/bin/true --token={SECRET}\n")
    yield
    target.set_dropin("demo-worker.service", "secret", None)


@pytest.mark.parametrize("username", ["vic", "olga"])
def test_the_unit_page_hides_secrets_from_viewers_and_operators(browsing, dashboard,
                                                                secret_dropin, username):
    page = browsing.login(dashboard, username)
    page.goto("/services/demo-worker")
    expect(page.locator("#u-file")).to_contain_text("Environment=DB_PASSWORD=(hidden)")
    expect(page.locator("#u-file")).to_contain_text("ExecStartPre=/bin/true (arguments hidden)")
    expect(page.locator("#u-redacted")).to_be_visible()
    expect(page.locator("#u-redacted")).to_contain_text("Only an admin")
    page.locator("#u-props-box summary").click()
    page.get_by_placeholder("Filter properties").fill("Environment")
    expect(page.locator("#u-props")).to_contain_text("DB_PASSWORD=(hidden)")
    page.get_by_placeholder("Filter properties").fill("")
    expect(page.locator("#u-props tr").first).to_be_visible()
    html = page.content()
    assert SECRET not in html and "DB_PASSWORD" in html
    browsing.assert_no_console_errors()
