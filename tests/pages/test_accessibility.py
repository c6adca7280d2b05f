"""axe-core (the PyPI package axe-playwright-python, which ships axe.min.js: nothing is fetched)
checks every page in real Chromium at desktop and phone width, and in the dark scheme: no
serious or critical violation on the login page, the dashboard (rolling panel and changes
open), a unit's detail page, the audit trail and the terminal page."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_fixtures import PHONE
from playwright.sync_api import expect

DESKTOP = {"width": 1440, "height": 900}
BLOCKING = ("serious", "critical")


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in BLOCKING]


@pytest.mark.parametrize("viewport, scheme", [(DESKTOP, "light"), (PHONE, "light"),
                                               (DESKTOP, "dark")],
                         ids=["1440x900", "390x844", "1440x900-dark"])
def test_every_page_has_no_serious_or_critical_axe_violation(browsing, dashboard, viewport,
                                                             scheme):
    found: list[str] = []
    tag = f"{viewport['width']}x{viewport['height']}" + ("-dark" if scheme == "dark" else "")

    login = browsing.context(dashboard, viewport).new_page()
    login.emulate_media(color_scheme=scheme)
    login.goto("/login")
    found += _violations(login)

    page = browsing.login(dashboard, "ada", viewport=viewport)
    page.emulate_media(color_scheme=scheme)  # kept across this page's navigations
    page.wait_for_selector("html[data-status-loaded]")
    # something in the audit trail: a reload (audited, ok) of the demo's web service
    assert page.evaluate("""async () => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/services/demo-web/reload', {method: 'POST',
          credentials: 'same-origin', headers: {'X-CSRF-Token': token}});
        return r.ok;
    }""")
    page.click("#rolling summary")
    page.click("#changes summary")
    expect(page.locator("#changes-list li").first).not_to_have_text("Loading…")
    found += _violations(page)
    browsing.shot(page, f"a11y-dashboard-{tag}", full_page=True)

    page.goto("/services/demo-web")
    expect(page.locator("h1")).to_contain_text("Demo Web")
    page.wait_for_load_state("networkidle")
    found += _violations(page)

    page.goto("/audit")
    result = page.locator("#audit tbody tr").first.locator('td[data-label="Result"]')
    expect(result).to_contain_text("ok")
    found += _violations(page)
    # the whole entry fits the width, Result included: no sideways scroll on a phone
    box = result.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    browsing.shot(page, f"a11y-audit-{tag}", full_page=True)

    session = page.evaluate("""async () => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/terminals', {method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
          body: JSON.stringify({host: 'demo'})});
        return (await r.json()).session;
    }""")
    page.goto(f"/terminals/{session['id']}/")
    expect(page.locator("#term-state")).to_have_text("Connected")
    found += _violations(page)
    page.get_by_role("button", name="Close terminal").click()
    expect(page.locator("#term-state")).to_contain_text(re.compile("Closed"))

    assert not found, "axe-core found:\n" + "\n".join(found)
