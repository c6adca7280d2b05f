"""The dashboard of a large fleet in real Chromium: 1,000 generated hosts x 10 units whose
statuses are written straight into the snapshot (tests/support/large_fleet.py; no monitor runs,
no host is contacted). The page must not grow with the fleet: host headers sum their services
up, only hosts with problems start expanded, rows exist only for expanded hosts, the filter
finds services inside collapsed hosts, and an event reaches a collapsed host's header."""

from __future__ import annotations

import re

import pytest
from browser_fixtures import PASSWORD, add_users
from large_fleet import build_fleet_app, host_name, publish_fleet
from playwright.sync_api import expect
from terminal_fixtures import LiveServer

from recon.onboarding.steps import keygen

HOSTS, UNITS = 1000, 10
PROBLEM_HOSTS = [host_name(i) for i in range(7, HOSTS, 100)]  # one failed unit each
FIRST_PAINT_BOUND_MS = 15_000  # generous for CI: the benchmark's target is 1,500 ms
SLOW = 30_000  # ms: what a loaded CI machine may take for a step over 1,000 hosts
STREAMED = 12_000  # ms: well below the page's 30 s resync, so the change came by the stream


@pytest.fixture(autouse=True)
def patient_expect():
    """Every step here works over 1,000 hosts: a loaded machine gets more than 5 s for it."""
    expect.set_options(timeout=SLOW)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the tests that follow


@pytest.fixture(scope="module")
def fleet_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("large-fleet")
    keygen(tmp / "id_ed25519")
    app = build_fleet_app(tmp, tmp / "id_ed25519", HOSTS, UNITS)
    add_users(app)
    publish_fleet(app, {host_name(i): {"worker.service": "failed"} if host_name(i) in PROBLEM_HOSTS
                        else {} for i in range(HOSTS)})
    server = LiveServer(app)
    server.app = app
    yield server
    server.stop()


def section(page, host: str):
    return page.locator(f'section.host[data-host="{host}"]')


def login(browsing, server, route=None):
    """A page logged in as an operator. The generated hosts do not exist, so the journal
    tails of failed rows are answered here (``route``: one more handler of /api/services)."""
    ctx = browsing.context(server)
    ctx.set_default_timeout(SLOW)
    ctx.route(re.compile(r".*/api/services/[\w-]+/logs\?lines=5$"),
              lambda r: r.fulfill(json={"lines": [], "truncated": False}))
    if route:
        ctx.route(re.compile(r".*/api/services(\?view=compact)?$"), route)
    page = ctx.new_page()
    page.goto("/login")
    page.fill("#username", "olga")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return page


def open_dashboard(browsing, server):
    page = login(browsing, server)
    page.wait_for_selector("html[data-status-loaded]")
    page.wait_for_function(
        "() => performance.getEntriesByName('recon:statuses-painted').length > 0")
    return page


def test_a_large_fleet_shows_host_summaries_and_builds_only_the_rows_of_problem_hosts(
        browsing, fleet_server):
    page = open_dashboard(browsing, fleet_server)
    painted = page.evaluate("performance.getEntriesByName('recon:statuses-painted')[0].startTime")
    assert painted < FIRST_PAINT_BOUND_MS
    expect(page.locator("section.host")).to_have_count(HOSTS)
    # Rows exist for the problem hosts only: 100 rows, not 10,000.
    expect(page.locator("article.svc")).to_have_count(len(PROBLEM_HOSTS) * UNITS)
    expect(page.locator('.count[data-count="running"]')).to_contain_text(
        f"{HOSTS * UNITS - len(PROBLEM_HOSTS)} Running")
    expect(page.locator('.count[data-count="failed"]')).to_contain_text(
        f"{len(PROBLEM_HOSTS)} Failed")

    healthy, sick = section(page, host_name(500)), section(page, PROBLEM_HOSTS[0])
    expect(healthy).to_have_attribute("data-open", "no")
    expect(healthy.locator("[data-toggle-host]")).to_have_attribute("aria-expanded", "false")
    expect(healthy.locator("[data-summary]")).to_have_text("10 services 10 Running")
    expect(healthy.locator("article.svc")).to_have_count(0)
    expect(sick).to_have_attribute("data-open", "yes")
    expect(sick.locator('[data-hs="failed"]')).to_have_text("1 Failed")
    expect(sick.locator('[data-hs="running"]')).to_have_text("9 Running")
    expect(sick.locator('article.svc[data-state="failed"]')).to_have_count(1)
    browsing.shot(page, "large-fleet")
    browsing.assert_no_console_errors()


def test_expanding_a_host_builds_its_rows_which_act_and_the_choice_is_kept(
        browsing, fleet_server):
    page = open_dashboard(browsing, fleet_server)
    host = section(page, host_name(500))
    host.get_by_role("button", name=host_name(500), exact=True).click()
    rows = host.locator("article.svc")
    expect(rows).to_have_count(UNITS)
    api = host.locator(f'article.svc[data-slug="{host_name(500)}-api"]')
    expect(api.locator("[data-state-text]")).to_have_text("Running")
    expect(api.locator(".svc-name")).to_have_text("Api")
    expect(api.locator(".tag")).to_have_text(["prod"])
    stop, start = (api.get_by_role("button", name=n, exact=True) for n in ("Stop Api", "Start Api"))
    expect(stop).to_be_enabled()
    expect(start).to_have_attribute("title", "Already running")
    api.get_by_role("button", name="Details of Api").click()
    expect(api.get_by_role("link", name="Unit details of Api")).to_have_attribute(
        "href", f"/services/{host_name(500)}-api")
    # The stop asks first, and names the unit and host from the row the page built.
    stop.click()
    expect(page.locator("#confirm-text")).to_have_text(
        f"This runs systemctl stop api.service on {host_name(500)}.")
    page.locator("dialog#confirm").get_by_role("button", name="Cancel").click()

    page.reload()
    page.wait_for_selector("html[data-status-loaded]")
    expect(host.locator("article.svc")).to_have_count(UNITS)  # kept in localStorage
    host.get_by_role("button", name=host_name(500), exact=True).click()
    expect(host).to_have_attribute("data-open", "no")
    expect(host.locator("article.svc")).to_have_count(0)  # dropped, not hidden
    browsing.assert_no_console_errors()


def test_the_filter_finds_services_inside_collapsed_hosts(browsing, fleet_server):
    page = open_dashboard(browsing, fleet_server)
    built = page.locator("article.svc").count()
    page.keyboard.press("/")
    page.keyboard.type(f"{host_name(321)} cache")
    visible = page.locator("article.svc:visible")
    expect(visible).to_have_count(1)
    expect(visible).to_have_attribute("data-slug", f"{host_name(321)}-cache")
    expect(section(page, host_name(321)).locator("[data-matches]")).to_have_text("1 match")
    expect(page.locator("section.host:visible")).to_have_count(1)
    # A filter matching every service builds a bounded number of rows; every host shows its count.
    page.get_by_placeholder("Filter").fill("worker")
    expect(page.locator("section.host:visible")).to_have_count(HOSTS)
    expect(section(page, host_name(999)).locator("[data-matches]")).to_have_text("1 match")
    assert page.locator("article.svc").count() <= built + 400
    page.get_by_placeholder("Filter").press("Escape")
    expect(page.locator("article.svc")).to_have_count(built)  # back as it was
    expect(section(page, host_name(321))).to_have_attribute("data-open", "no")
    page.get_by_label("Problems only").check()
    expect(page.locator("section.host:visible")).to_have_count(len(PROBLEM_HOSTS))
    expect(page.locator("article.svc:visible")).to_have_count(len(PROBLEM_HOSTS))
    browsing.assert_no_console_errors()


def test_an_event_repaints_a_collapsed_hosts_summary_and_expands_it(browsing, fleet_server):
    page = open_dashboard(browsing, fleet_server)
    expect(page.locator("#updated")).to_have_text("Live")
    host = section(page, host_name(42))
    expect(host.locator("[data-summary]")).to_have_text("10 services 10 Running")
    try:
        publish_fleet(fleet_server.app, {host_name(42): {"cache.service": "failed"}})
        expect(host.locator('[data-hs="failed"]')).to_have_text("1 Failed", timeout=STREAMED)
        expect(host).to_have_attribute("data-open", "yes")  # a problem: shown
        expect(host.locator('article.svc[data-state="failed"] .svc-name')).to_have_text("Cache")
        expect(page.locator('.count[data-count="failed"]')).to_contain_text(
            f"{len(PROBLEM_HOSTS) + 1} Failed")
    finally:
        publish_fleet(fleet_server.app, {host_name(42): {}})
    expect(host.locator("[data-summary]")).to_have_text("10 services 10 Running", timeout=STREAMED)
    browsing.assert_no_console_errors()


def test_a_host_without_a_monitor_says_not_watched_and_why(browsing, fleet_server):
    def unwatched(route):
        body = route.fetch().json()
        for h in body["hosts"]:
            h["watched"] = h["name"] != host_name(3)
            if not h["watched"]:
                h["watch_reason"] = "no monitor holds the lease"
        route.fulfill(json=body)

    page = login(browsing, fleet_server, unwatched)
    page.wait_for_selector("html[data-status-loaded]")
    badge = section(page, host_name(3)).locator("[data-watch]")
    expect(badge).to_have_text("Not watched")
    expect(badge).to_have_attribute("title", "no monitor holds the lease")
    expect(section(page, host_name(4)).locator("[data-watch]")).to_be_hidden()
    browsing.assert_no_console_errors()
