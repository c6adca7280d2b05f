"""axe-core on the add-host page (each step shown) and the manage-unit form, at desktop and
phone width, light and dark: no serious or critical violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_fixtures import PHONE
from playwright.sync_api import expect

DESKTOP = {"width": 1440, "height": 900}


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport, scheme", [(DESKTOP, "light"), (PHONE, "light"),
                                               (DESKTOP, "dark"), (PHONE, "dark")],
                         ids=["1440x900", "390x844", "1440x900-dark", "390x844-dark"])
def test_the_onboarding_pages_have_no_serious_axe_violation(browsing, dashboard, target_info,
                                                           viewport, scheme):
    tag = f"{viewport['width']}x{viewport['height']}" + ("-dark" if scheme == "dark" else "")
    page = browsing.login(dashboard, "ada", viewport=viewport)
    page.emulate_media(color_scheme=scheme)
    page.goto("/add-host")
    page.get_by_label("Name").fill("again")
    page.get_by_label("Address").fill(target_info.address)
    page.get_by_role("button", name="Fetch the host's key").click()
    expect(page.locator("#key-note")).to_contain_text("already trusts")
    found = _violations(page)
    browsing.shot(page, f"a11y-add-host-{tag}", full_page=True)
    page.goto("/hosts/demo/manage?unit=demo-flaky.service")
    expect(page.locator("#rules")).to_contain_text("demo-flaky.service")
    found += _violations(page)
    browsing.shot(page, f"a11y-manage-unit-{tag}", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert not found, "axe-core found:\n" + "\n".join(found)
