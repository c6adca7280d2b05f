"""The dashboard on the day things break (issue 13), in real Chromium against the real host:
a real crash shows systemd's reason and the last journal lines in the row, the logs drawer
carries the service's actions, a missing unit and a host without terminals say why nothing
can be done, and nothing is offered before the first status arrives."""

from __future__ import annotations

import dataclasses
import re

from dashboard_page import RED, button, dot_colour, panel, state_of, wait_all_running
from playwright.sync_api import expect

from recon.demo.nspawn import free_port

WORKER = "demo-worker.service"


def test_a_real_crash_shows_the_reason_and_last_lines_and_the_drawer_acts(
        browsing, dashboard, target):
    page = browsing.login(dashboard, "olga")
    wait_all_running(page)
    row = panel(page, "demo-worker")
    expect(row.locator("[data-detail]")).to_be_hidden()
    target.run(["kill", "-9", str(target.main_pid(WORKER))])
    try:
        expect(state_of(page, "demo-worker")).to_have_text("Failed", timeout=8000)
        assert dot_colour(page, "demo-worker") == RED
        detail = row.locator("[data-detail]")
        expect(detail).to_be_visible()  # opens by itself
        reason = detail.locator("[data-reason]")
        expect(reason).to_contain_text("killed by SIGKILL")
        expect(reason).to_contain_text("result: signal")
        expect(reason).to_contain_text(re.compile(r"Failed at \d\d:\d\d"))
        expect(reason).to_contain_text("0 automatic restarts")
        expect(detail.locator("[data-tail]")).to_contain_text("demo-worker")
        expect(page.locator('.count[data-count="failed"]')).to_contain_text("1 Failed")
        expect(button(page, "demo-worker", "reset-failed")).to_be_enabled()
        expect(button(page, "demo-worker", "stop")).to_be_enabled()
        browsing.shot(page, "dashboard-failed")

        # One click to the full logs; the drawer covers the row, so it carries its actions.
        detail.get_by_role("button", name="Full logs of Demo Worker").click()
        drawer = page.locator("#logs")
        expect(drawer).to_be_visible()
        expect(drawer.locator("#logs-view .line").first).to_be_visible()
        expect(drawer.locator("#logs-state")).to_have_text("Failed")
        start = drawer.locator('#logs-actions button[data-action="start"]')
        expect(start).to_be_enabled()
        browsing.shot(page, "logs-drawer-failed")
        start.click()
        expect(drawer.locator("#logs-state")).to_have_text("Running", timeout=8000)
        expect(drawer.locator("#logs-feedback")).to_contain_text("start demo-worker.service: done")
        expect(drawer.locator('#logs-actions button[data-action="start"]')).to_be_disabled()
        expect(drawer).to_be_visible()
        expect(state_of(page, "demo-worker")).to_have_text("Running")
        expect(row.locator("[data-detail]")).to_be_hidden()  # the episode is over
        browsing.shot(page, "logs-drawer-acted")
    finally:
        target.systemctl("start", WORKER)
    browsing.assert_no_console_errors()


def test_stopped_is_neutral_and_disable_at_boot_shows_in_the_row(browsing, dashboard, target):
    page = browsing.login(dashboard, "olga")
    wait_all_running(page)
    row = panel(page, "demo-web")
    try:
        target.systemctl("stop", "demo-web.service")
        expect(state_of(page, "demo-web")).to_have_text("Stopped", timeout=8000)
        assert dot_colour(page, "demo-web") != RED
        expect(row.locator("[data-detail]")).to_be_hidden()
        row.get_by_role("button", name="Details of Demo Web").click()
        expect(button(page, "demo-web", "reset-failed")).to_have_attribute(
            "title", "Only a failed unit can be reset")
        expect(button(page, "demo-web", "mask")).to_have_count(0)  # admins only
        button(page, "demo-web", "disable").click()
        page.locator("dialog#confirm").get_by_role("button", name="Disable").click()
        expect(row.locator('[data-f="enabled"]')).to_have_text("disabled", timeout=8000)
        assert target.show("demo-web.service", "UnitFileState")["UnitFileState"] == "disabled"
        expect(button(page, "demo-web", "disable")).to_be_disabled()
        button(page, "demo-web", "enable").click()
        expect(row.locator('[data-f="enabled"]')).to_have_text("enabled", timeout=8000)
    finally:
        target.systemctl("enable", "demo-web.service")
        target.systemctl("start", "demo-web.service")
    browsing.assert_no_console_errors()


def test_missing_unit_no_terminals_and_an_unreachable_host_say_why(
        browsing, serve, target_info):
    demo = dataclasses.replace(target_info, units=(*target_info.units, "demo-nope.service"),
                               terminal_user=None)
    offline = dataclasses.replace(target_info, name="db-01", port=free_port())
    server = serve([demo, offline])
    page = browsing.login(server, "olga")
    expect(state_of(page, "demo-demo-nope")).to_have_text("Not found")
    nope = panel(page, "demo-demo-nope")
    expect(nope.locator("[data-reason]")).to_contain_text("has no unit demo-nope.service")
    expect(nope.locator("[data-detail]")).to_be_visible()
    expect(nope.locator("button[data-action]:enabled")).to_have_count(0)
    expect(button(page, "demo-demo-nope", "start")).to_have_attribute(
        "title", "The unit does not exist on demo")
    expect(page.locator('.count[data-count="missing"]')).to_contain_text("1 Not found")

    demo_host = page.locator('section.host[data-host="demo"]')
    term = demo_host.get_by_role("button", name="Open a terminal on demo")
    expect(term).to_be_disabled()
    expect(demo_host.locator("[data-term-off]")).to_contain_text("no terminal_user")
    down = page.locator('section.host[data-host="db-01"]')
    expect(down.locator("[data-reach]")).to_have_text("Unreachable")
    expect(down.get_by_role("button", name="Open a terminal on db-01")).to_be_disabled()
    expect(down.locator("[data-term-off]")).to_have_text("db-01 is unreachable")
    # Every fact of the unreachable host is empty: its columns take no space.
    expect(down.locator(".svc-list")).to_have_class(re.compile(r"\bno-pid\b.*\bno-memory\b"))
    expect(demo_host.locator(".svc-list")).not_to_have_class(re.compile(r"no-pid"))
    browsing.shot(page, "dashboard-missing-unit", full_page=True)
    browsing.assert_no_console_errors()


def test_before_the_first_status_nothing_is_offered_and_nothing_is_green(browsing, dashboard):
    page = browsing.context(dashboard).new_page()
    held = []
    page.route("**/api/services", lambda route: held.append(route))
    page.route("**/api/events", lambda route: held.append(route))
    page.goto("/login")
    page.fill("#username", "olga")
    page.fill("#password", "correct-horse-battery")
    page.click("button[type=submit]")
    expect(page.locator("#counts")).to_have_text("Loading status…")
    expect(page.locator('.count[data-count="running"]')).to_have_count(0)
    expect(state_of(page, "demo-web")).to_have_text("Loading")
    expect(page.locator("article.svc button[data-action]:enabled")).to_have_count(0)
    expect(button(page, "demo-web", "stop")).to_have_attribute(
        "title", "Waiting for the first status")
    browsing.shot(page, "dashboard-loading")
    assert held
    page.unroute("**/api/services")  # lets the held requests through
    page.unroute("**/api/events")
    wait_all_running(page)
    expect(button(page, "demo-web", "stop")).to_be_enabled()
    browsing.assert_no_console_errors()


def test_unit_detail_page_shows_status_timeline_timer_file_and_properties(
        browsing, serve, target_info, target):
    info = dataclasses.replace(target_info, units=(*target_info.units, "demo-backup.service"))
    server = serve([info])
    page = browsing.login(server, "olga")
    wait_all_running(page)
    button(page, "demo-worker", "restart").click()
    page.locator("dialog#confirm").get_by_role("button", name="Restart").click()
    expect(panel(page, "demo-worker").locator("[data-feedback]")).to_contain_text("done")
    panel(page, "demo-worker").get_by_role("button", name="Details of Demo Worker").click()
    panel(page, "demo-worker").get_by_role("link", name="Unit details of Demo Worker").click()
    expect(page).to_have_url(re.compile(r"/services/demo-worker$"))
    expect(page.locator("#u-state")).to_have_text("Running")
    expect(page.locator("#u-status")).to_contain_text("active (running)")
    expect(page.locator("#u-status-cmd")).to_have_text("systemctl status demo-worker.service")
    expect(page.locator("#u-timeline")).to_contain_text("restarted by olga")
    expect(page.locator("#u-file")).to_contain_text("ExecStart=")
    expect(page.locator("#u-deps")).to_contain_text("multi-user.target")
    page.locator("#u-props-box summary").click()
    page.get_by_placeholder("Filter properties").fill("MainPID")
    expect(page.locator("#u-props tr").first).to_contain_text(
        str(target.main_pid("demo-worker.service")))
    browsing.shot(page, "unit-detail", full_page=True)
    page.goto("/services/demo-backup")
    expect(page.locator("#u-timer")).to_contain_text("Next run")
    expect(page.locator("#u-timer")).to_contain_text(re.compile(r"\d\d:\d\d"))
    assert page.request.get("/services/nope").status == 404  # (a page load would log it)
    browsing.assert_no_console_errors()


def test_tag_filter_and_what_changed_in_the_last_day(browsing, dashboard, target):
    page = browsing.login(dashboard, "olga")
    wait_all_running(page)
    visible = page.locator("article.svc:visible")
    page.locator("#tag-filter").select_option("prod")
    expect(visible).to_have_count(2)  # demo-web, demo-worker
    expect(panel(page, "demo-web").locator(".tag")).to_have_text(["web", "prod"])
    page.locator("#tag-filter").select_option("")
    expect(visible).to_have_count(4)
    try:
        button(page, "demo-cron", "stop").click()
        page.locator("dialog#confirm").get_by_role("button", name="Stop").click()
        expect(state_of(page, "demo-cron")).to_have_text("Stopped")
    finally:
        target.systemctl("start", "demo-cron.service")
    expect(state_of(page, "demo-cron")).to_have_text("Running", timeout=8000)
    page.get_by_text("What changed in the last 24 h").click()
    changes = page.locator("#changes-list")
    expect(changes).to_contain_text("demo-cron on demo: active → inactive (stop by olga)")
    expect(changes).to_contain_text("demo-cron on demo: inactive → ")
    browsing.shot(page, "dashboard-changes", full_page=True)
    browsing.assert_no_console_errors()
