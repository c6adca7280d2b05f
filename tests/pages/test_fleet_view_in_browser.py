"""The page at fleet size in real Chromium, over a generated fleet of 3 hosts x 6 units
(statuses written into the snapshot, no host contacted: tests/support/large_fleet.py):
Collapse all remembered across a reload, Problems first, one unit across every host,
"What changed" from the toolbar, 18 services on a phone well under half the 3,233 px they
took, the history strips drawn from one batched call and labelled, axe clean in light and dark
at 1440x900 and 390x844."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_fixtures import PHONE, add_users
from large_fleet import build_fleet_app, host_name, publish_fleet
from playwright.sync_api import expect
from terminal_fixtures import LiveServer

from recon.onboarding.steps import keygen

DESKTOP = {"width": 1440, "height": 900}
PHONE_BOUND_PX = 1616  # half of the 3,233 px that 18 services took on a phone (issue 27)


@pytest.fixture(scope="module")
def small_fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet-view")
    keygen(tmp / "id_ed25519")
    app = build_fleet_app(tmp, tmp / "id_ed25519", 3, 6)
    add_users(app)
    # node0001's web is stopped (a problem); the rest run.
    publish_fleet(app, {host_name(0): {}, host_name(1): {"web.service": "inactive"},
                        host_name(2): {}})
    server = LiveServer(app)
    server.app = app
    yield server
    server.stop()


def open_page(browsing, server, viewport=DESKTOP, user="olga", path="/"):
    page = browsing.login(server, user, viewport=viewport)
    if path != "/":
        page.goto(path)
    else:
        page.wait_for_selector("html[data-status-loaded]")
    return page


def hosts_order(page) -> list[str]:
    return page.eval_on_selector_all("#hosts > section.host", "s => s.map(x => x.dataset.host)")


def test_collapse_all_is_remembered_across_a_reload_and_one_host_opens_again(browsing,
                                                                           small_fleet):
    page = open_page(browsing, small_fleet)
    expect(page.locator('section.host[data-open="yes"]')).to_have_count(3)
    page.click("#collapse-all")
    expect(page.locator('section.host[data-open="no"]')).to_have_count(3)
    expect(page.locator("#rows-1")).to_be_hidden()
    page.reload()
    page.wait_for_selector("html[data-status-loaded]")
    expect(page.locator('section.host[data-open="no"]')).to_have_count(3)
    page.click(f'section.host[data-host="{host_name(2)}"] [data-toggle-host]')
    page.reload()
    page.wait_for_selector("html[data-status-loaded]")
    expect(page.locator(f'section.host[data-host="{host_name(2)}"]')).to_have_attribute(
        "data-open", "yes")
    expect(page.locator('section.host[data-open="no"]')).to_have_count(2)
    page.click("#expand-all")
    expect(page.locator('section.host[data-open="yes"]')).to_have_count(3)


def test_problems_first_moves_the_host_with_a_stopped_unit_to_the_top_and_stays_on(
        browsing, small_fleet):
    page = open_page(browsing, small_fleet)
    assert hosts_order(page) == [host_name(0), host_name(1), host_name(2)]
    page.check("#problems-first")
    page.wait_for_function("document.querySelector('#hosts > section.host').dataset.host "
                           f"=== '{host_name(1)}'")
    assert hosts_order(page) == [host_name(1), host_name(0), host_name(2)]
    page.reload()
    page.wait_for_selector("html[data-status-loaded]")
    expect(page.locator("#problems-first")).to_be_checked()
    page.wait_for_function("document.querySelector('#hosts > section.host').dataset.host "
                           f"=== '{host_name(1)}'")
    page.uncheck("#problems-first")
    page.wait_for_function("document.querySelector('#hosts > section.host').dataset.host "
                           f"=== '{host_name(0)}'")


def test_what_changed_opens_from_the_toolbar(browsing, small_fleet):
    page = open_page(browsing, small_fleet)
    page.click("#jump-changes")
    expect(page.locator("#changes")).to_have_attribute("open", "")
    expect(page.locator("#changes-list li").first).not_to_have_text("Loading…")
    # Scrolled to it (as far as the page goes: it is the last thing on it).
    assert page.evaluate("window.scrollY") > 0
    expect(page.locator("#changes summary")).to_be_in_viewport()
    expect(page.locator("#changes summary")).to_be_focused()


def test_one_unit_across_every_host_shows_its_rows_with_the_host_named_and_actions(
        browsing, small_fleet):
    page = open_page(browsing, small_fleet)
    page.click("#by-unit")
    page.wait_for_url(re.compile(r"/units$"))
    web = page.locator('tr[data-unit="web.service"]')
    expect(web.locator("td.num")).to_have_text("3")
    expect(web.locator("[data-states]")).to_contain_text("2 Running")
    expect(web.locator("[data-states]")).to_contain_text("1 Stopped")
    web.locator("a").click()
    page.wait_for_url(re.compile(r"/units/web\.service$"))
    rows = page.locator("article.svc")
    expect(rows).to_have_count(3)
    expect(rows.locator(".row-host")).to_have_text([host_name(0), host_name(1), host_name(2)])
    stopped = page.locator(f'article.svc[data-host="{host_name(1)}"]')
    expect(stopped.locator("[data-state-text]")).to_have_text("Stopped")
    expect(stopped.locator('button[data-action="start"]')).to_be_enabled()
    page.fill("#filter", host_name(2))
    expect(page.locator("article.svc:visible")).to_have_count(1)
    browsing.assert_no_console_errors()
    browsing.frozen = True  # the browser logs the 404 asked for below
    assert page.goto("/units/nope.service").status == 404


def test_eighteen_services_on_a_phone_take_well_under_half_the_height_they_did(browsing,
                                                                              small_fleet):
    page = open_page(browsing, small_fleet, viewport=PHONE)
    expect(page.locator("article.svc")).to_have_count(18)
    height = page.evaluate("document.documentElement.scrollHeight")
    browsing.shot(page, "fleet-view-phone", full_page=True)
    assert height < PHONE_BOUND_PX, f"{height} px"
    # The run actions of a running row wait behind Details; opening it shows them.
    row = page.locator(f'article.svc[data-slug="{host_name(0)}-api"]')
    expect(row.locator('button[data-action="stop"]')).to_be_hidden()
    row.locator("[data-toggle-detail]").click()
    expect(row.locator('button[data-action="stop"]')).to_be_visible()
    # Who is logged in stays visible on a phone.
    expect(page.locator(".who-name")).to_be_visible()


def test_history_strips_are_drawn_from_one_call_and_say_what_they_show(browsing,
                                                                      small_fleet):
    ctx = browsing.context(small_fleet)
    calls: list[str] = []
    ctx.on("request", lambda r: "/api/history/" in r.url and calls.append(r.url))
    page = ctx.new_page()
    page.goto("/login")
    page.fill("#username", "olga")
    page.fill("#password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_selector("html[data-status-loaded]")
    strips = page.locator("article.svc [data-strip] svg[role=img]")
    expect(strips).to_have_count(18)
    label = strips.first.get_attribute("aria-label")
    assert "last 24 h" in label and "running" in label and "available" in label, label
    stopped = page.locator(f'article.svc[data-slug="{host_name(1)}-web"] [data-strip] svg')
    assert stopped.get_attribute("data-strip-codes").endswith("s")
    expect(page.locator("section.host [data-host-strip] svg[role=img]")).to_have_count(3)
    assert len(calls) == 1, calls  # one batched call for every row, not one per service
    browsing.assert_no_console_errors()
    browsing.frozen = True  # the generated host cannot be read: its unit page logs 50x
    page.goto(f"/services/{host_name(1)}-web")
    big = page.locator("#u-strip svg.strip-big[role=img]")
    expect(big).to_have_count(1)
    assert "stopped" in big.get_attribute("aria-label")
    expect(page.locator("#u-strip .strip-legend li")).not_to_have_count(0)
    expect(page.locator("#u-strip .avail-list")).to_contain_text("Available, 30 days")


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_fleet_views_have_no_serious_axe_violation(browsing, small_fleet, viewport, scheme):
    page = open_page(browsing, small_fleet, viewport=viewport, user="ada")
    page.emulate_media(color_scheme=scheme)
    expect(page.locator("article.svc [data-strip] svg")).to_have_count(18)
    found = _violations(page)
    tag = f"{viewport['width']}x{viewport['height']}-{scheme}"
    browsing.shot(page, f"fleet-dashboard-{tag}", full_page=True)
    page.goto("/units")
    expect(page.locator('tr[data-unit="api.service"] [data-states]')).to_contain_text("Running")
    found += _violations(page)
    browsing.shot(page, f"fleet-units-{tag}", full_page=True)
    page.goto("/units/web.service")
    expect(page.locator("article.svc [data-strip] svg")).to_have_count(3)
    found += _violations(page)
    browsing.shot(page, f"fleet-unit-across-{tag}", full_page=True)
    browsing.assert_no_console_errors()
    browsing.frozen = True  # the generated host cannot be read: its unit page logs 50x
    page.goto(f"/services/{host_name(1)}-web")
    expect(page.locator("#u-strip svg.strip-big")).to_have_count(1)
    found += _violations(page)
    browsing.shot(page, f"fleet-unit-page-{tag}", full_page=True)
    assert not found, "\n".join(found)


def test_audit_times_carry_their_zone_and_rolling_n_links_to_that_runs_entries(browsing,
                                                                             small_fleet):
    from recon.audit.models import AuditEntry
    from recon.db.extensions import db

    with small_fleet.app.app_context():
        # 2026-01-01 12:00:00 UTC: a rolling step, and an entry of no run.
        db.session.add_all([
            AuditEntry(at=1767268800.0, actor="olga", action="restart", service="node0000-api",
                       host="node0000", success=True, group_id=7),
            AuditEntry(at=1767268800.0, actor="olga", action="stop", service="node0001-web",
                       host="node0001", success=True)])
        db.session.commit()
    page = browsing.login(small_fleet, "ada")
    page.emulate_media(color_scheme="light")
    page.goto("/audit")
    api = page.evaluate("fetch('/api/audit?limit=5').then(r => r.json())")
    at = api["entries"][0]["at"]
    assert at.endswith("+00:00"), at  # ISO 8601 with its offset: no browser reads it as local
    link = page.locator("a.group", has_text="rolling #7")
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(re.compile(r"/audit\?group=7$"))
    expect(page.locator("#audit tbody tr")).to_have_count(1)
    expect(page.locator("#audit tbody tr")).to_contain_text("node0000-api")
