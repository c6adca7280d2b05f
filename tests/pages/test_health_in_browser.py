"""Health checks in real Chromium against the real host: the row's health badge (word and
latency) and the unit page's, a failing check on a running unit makes the row Unhealthy and
"Problems only" keeps it, the unit page says why; axe clean in light and dark.
Screenshots: test-artifacts/health-*.png."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_fixtures import add_users
from health_config import PAGE, web_health_toml
from playwright.sync_api import expect
from terminal_fixtures import LiveServer, close_all


def _extra(name: str, address: str) -> str:
    return web_health_toml(name, address, fail_after=1, recover_after=1)


@pytest.fixture
def server(make_app, target, monkeypatch, browsing):
    monkeypatch.setenv("RECON_REFRESH_SECONDS", "2")
    target.run(["sh", "-c", f"echo 'all good' > {PAGE}"])
    app = make_app([target.info], extra_toml=_extra(target.info.name, target.info.address))
    add_users(app)
    live = LiveServer(app)
    try:
        yield live
    finally:
        browsing.frozen = True
        live.stop()
        close_all(app)
        target.run(["rm", "-f", PAGE])


def _serious(page) -> list[str]:
    return [f"{v['id']}: {v['help']}" for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_health_badge_and_an_unhealthy_row_on_the_dashboard_and_unit_page(
        browsing, server, target, scheme):
    page = browsing.login(server, "olga")
    page.emulate_media(color_scheme=scheme)
    page.wait_for_selector("html[data-status-loaded]")
    row = page.locator('article[data-slug="web-health"]')
    badge = row.locator("[data-health-badge]")
    expect(badge).to_have_text(re.compile(r"^Healthy · \d+ ms$"), timeout=20_000)
    expect(badge).to_have_attribute("data-health", "passing")
    expect(badge).to_have_attribute("title", re.compile("http check: http://"))
    # a service without a check has no badge
    expect(page.locator('article[data-slug="demo-worker"] [data-health-badge]')).to_be_hidden()
    page.wait_for_load_state("networkidle")
    assert _serious(page) == []
    browsing.shot(page, f"health-passing-{scheme}")
    target.run(["rm", "-f", PAGE])
    expect(row.locator("[data-state-text]")).to_have_text("Unhealthy", timeout=20_000)
    expect(badge).to_have_text(re.compile(r"^Unhealthy · HTTP 404 · \d+ ms$"))
    expect(row.locator("[data-desc]")).to_contain_text("Health check failing: HTTP 404")
    page.check("#problems-only")
    expect(row).to_be_visible()
    expect(page.locator('article[data-slug="demo-worker"]')).to_be_hidden()
    expect(page.locator("button.count-unhealthy")).to_contain_text("1 Unhealthy")
    page.wait_for_load_state("networkidle")
    assert _serious(page) == []
    browsing.shot(page, f"health-failing-row-{scheme}")
    page.goto("/services/web-health")
    expect(page.locator("#u-state [data-state-text]")).to_have_text("Unhealthy")
    expect(page.locator("#u-health")).to_have_text(re.compile(r"^Unhealthy · HTTP 404"))
    expect(page.locator("#u-reason")).to_contain_text("its http check of http://")
    expect(page.locator("#u-timeline")).to_contain_text("health check failing")
    page.wait_for_load_state("networkidle")
    assert _serious(page) == []
    browsing.shot(page, f"health-failing-unit-{scheme}", full_page=True)
    target.run(["sh", "-c", f"echo 'all good' > {PAGE}"])
    expect(page.locator("#u-state [data-state-text]")).to_have_text("Running", timeout=20_000)
    expect(page.locator("#u-health")).to_have_text(re.compile(r"^Healthy · \d+ ms$"))
