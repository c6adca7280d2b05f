"""The host page in Chromium: every unit of the real host, failed first, Cockpit's filters,
managed units linking to their service, a Manage button for admins only, fast first rows, and
no serious axe violation in light and dark, on a desktop and a phone."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_fixtures import PHONE
from playwright.sync_api import expect

from recon.hosts import store
from recon.web.context import runtime

BROKEN = "recon-pagetest-broken.service"
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def broken(target):
    """The host's one failed unit: any other failure (the timer-run demo-backup fails now
    and then on a busy host) is reset first, or it would sort before it."""
    target.run(["systemctl", "reset-failed"], check=False)
    target.run(["systemd-run", f"--unit={BROKEN}", "/bin/false"])
    yield BROKEN
    target.systemctl("reset-failed", BROKEN, check=False)


def read_now(app) -> None:
    """What the background task does every host_units_seconds (not started in tests)."""
    with app.app_context():
        rt = runtime(app)
        store.refresh(rt.executor, rt.config.hosts["demo"])


def rows(page):
    return page.locator("#h-units tbody tr")


def test_the_host_page_lists_every_unit_failed_first_with_filters(browsing, dashboard, broken):
    page = browsing.login(dashboard, "ada")
    page.get_by_role("link", name="All units of demo").click()
    page.wait_for_url(re.compile(r"/hosts/demo$"))
    # nothing stored yet (no background task in tests): the page says so; Refresh reads
    expect(page.locator("#h-updated")).to_have_text("Not read yet")
    page.get_by_role("button", name="Refresh").click()
    expect(rows(page).first).to_have_attribute("data-unit", BROKEN)
    expect(rows(page).first).to_have_attribute("data-state", "failed")
    expect(rows(page).first.locator("td").first).to_contain_text("failed")
    expect(page.locator("#h-updated")).to_contain_text(re.compile(r"Read (just now|\d+ s ago)"))
    assert rows(page).count() > 200

    # the admin may manage an unmanaged unit (the form comes later), not a managed one
    flaky = page.locator('tr[data-unit="demo-flaky.service"]')
    expect(flaky.get_by_role("link", name="Manage demo-flaky.service")).to_have_attribute(
        "href", "/hosts/demo/manage?unit=demo-flaky.service")
    web = page.locator('tr[data-unit="demo-web.service"]')
    expect(web).to_have_attribute("data-managed", "yes")
    expect(web.locator("[data-manage]")).to_have_count(0)

    page.get_by_label("Type").select_option("timer")
    expect(rows(page).first).to_be_visible()
    assert set(page.locator("#h-units tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.unit.split('.').pop())")) == {"timer"}
    page.get_by_label("Type").select_option("")
    page.get_by_label("Active state").select_option("failed")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-unit", BROKEN)
    assert "active=failed" in page.url
    page.get_by_role("button", name="Clear").click()
    page.get_by_label("Search").fill("demo web server")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#h-summary")).to_contain_text(re.compile(r"^1 of \d+ units"))
    browsing.shot(page, "host-page-filtered")

    # a managed unit links to its service's page
    page.get_by_role("link", name="Service demo-web (demo-web.service)").click()
    page.wait_for_url(re.compile(r"/services/demo-web$"))
    expect(page.locator("h1")).to_have_text("Demo Web")
    browsing.assert_no_console_errors()


def test_a_viewer_sees_the_units_read_only_as_soon_as_the_host_is_read(browsing, dashboard):
    page = browsing.login(dashboard, "vic")
    page.goto("/hosts/demo?q=demo-")
    expect(page.locator("#h-updated")).to_have_text("Not read yet")
    read_now(dashboard.app)  # the monitor's process, in the background: the page follows
    expect(page.locator("#h-updated")).to_contain_text("Read", timeout=5000)
    expect(page.locator('tr[data-unit="demo-flaky.service"]')).to_contain_text("not managed")
    expect(page.locator("[data-manage]")).to_have_count(0)
    expect(page.get_by_role("link", name="Service demo-web (demo-web.service)")).to_be_visible()
    assert page.get_by_label("Search").input_value() == "demo-"
    browsing.assert_no_console_errors()


def test_a_300_unit_host_shows_all_its_rows_from_one_request(browsing, dashboard):
    """All 300 rows come with the page (no per-unit request), failed first; how fast is
    `make bench`'s (bench/host_page.py), not a timed test's."""
    units = [{"name": f"unit-{i:03d}.service", "type": "service", "load": "loaded",
              "active": "failed" if i % 50 == 7 else "active", "sub": "running",
              "file_state": "enabled", "preset": "enabled",
              "description": f"Synthetic unit <b>{i}</b>"} for i in range(300)]
    with dashboard.app.app_context():
        store.save("demo", tried_at=store.time.time(), units=units)
    page = browsing.login(dashboard, "vic")
    page.goto("/hosts/demo")  # once, so the scripts are cached as on any later visit
    page.goto("/hosts/demo")
    expect(rows(page)).to_have_count(300)
    expect(rows(page).first).to_have_attribute("data-unit", "unit-007.service")
    assert page.evaluate("performance.getEntriesByName('recon-units-rendered').length") == 1
    # a description is text, never markup
    expect(page.locator('tr[data-unit="unit-001.service"]')).to_contain_text("<b>1</b>")


@pytest.mark.parametrize("viewport, scheme", [(DESKTOP, "light"), (PHONE, "light"),
                                               (DESKTOP, "dark"), (PHONE, "dark")],
                         ids=["1440x900", "390x844", "1440x900-dark", "390x844-dark"])
def test_the_host_pages_have_no_serious_axe_violation(browsing, dashboard, broken, viewport,
                                                      scheme):
    tag = f"{viewport['width']}x{viewport['height']}" + ("-dark" if scheme == "dark" else "")
    read_now(dashboard.app)
    page = browsing.login(dashboard, "ada", viewport=viewport)
    page.emulate_media(color_scheme=scheme)
    found = []
    for path in ("/hosts", "/hosts/demo"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        results = Axe().run(page)
        found += [f"{path}: {v['id']} ({v['impact']}): {v['help']} — "
                  + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
                  for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        browsing.shot(page, f"host-page{'s' if path == '/hosts' else ''}-{tag}")
    assert not found, "axe-core found:\n" + "\n".join(found)
