"""The rolling restart in real Chromium against three real hosts: pick services, confirm,
watch every step finish host by host; a viewer is offered no rolling restart at all.
Screenshots: test-artifacts/rolling-*.png."""

from __future__ import annotations

import re

import pytest
from browser_fixtures import PHONE
from playwright.sync_api import expect
from rolling_steps import hold_first_step

WORKER = "demo-worker.service"


@pytest.fixture(autouse=True)
def short_settle(monkeypatch):
    """As in rolling/test_rolling_actions.py: a short settle unless a test says otherwise."""
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "0.5")


def test_operator_runs_a_rolling_restart_and_sees_each_host_done_in_order(browsing, serve,
                                                                         fleet, monkeypatch):
    # Longer than the page's 1 s poll, so every step is seen settling at least once.
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "1.5")
    hosts = fleet[:3]
    server = serve([h.info for h in hosts])
    before = [h.main_pid(WORKER) for h in hosts]
    page = browsing.login(server, "olga")
    page.wait_for_selector("html[data-status-loaded]")
    page.click("#rolling summary")
    # by host picks that host's services; Clear empties the pick
    page.select_option("#rolling-host", hosts[1].name)
    # demo-stuck only reloads: a rolling restart cannot pick it
    expect(page.locator("#rolling-count")).to_have_text("3 services on 1 host")
    expect(page.locator(f'#rolling input[value="{hosts[1].name}-demo-stuck"]')).to_be_disabled()
    page.click("#rolling-clear")
    expect(page.locator("#rolling-start")).to_be_disabled()
    for h in hosts:
        page.check(f'#rolling input[value="{h.name}-demo-worker"]')
    expect(page.locator("#rolling-count")).to_have_text("3 services on 3 hosts")
    browsing.shot(page, "rolling-pick")

    page.click("#rolling-start")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text(
        " → ".join(h.name for h in hosts))
    expect(page.locator("#confirm-text")).to_contain_text("has stayed up for 1.5 s")
    browsing.shot(page, "rolling-confirm")
    page.click("#confirm-ok")

    expect(page.locator("#rolling-title")).to_contain_text("settle 1.5 s")
    settling = page.locator("#rolling-steps li").filter(
        has=page.locator(".step-note", has_text=re.compile(r"^active, settling: [12] s left$")))
    expect(settling).to_have_count(1)  # one step at a time, its unit up and being watched
    expect(settling.locator(".step-state")).to_have_text("Running…")
    browsing.shot(page, "rolling-settling")
    expect(page.locator("#rolling-state")).to_have_text("Succeeded", timeout=60_000)
    steps = page.locator("#rolling-steps li")
    expect(steps).to_have_count(3)
    for i, h in enumerate(hosts):
        expect(steps.nth(i).locator(".step-state")).to_have_text("Done")
        expect(steps.nth(i).locator(".step-host")).to_have_text(h.name)
    expect(page.locator("#rolling-cancel")).to_be_hidden()
    browsing.shot(page, "rolling-done")
    after = [h.main_pid(WORKER) for h in hosts]
    assert all(a != b for a, b in zip(after, before, strict=True))
    # the rows show the new main pids (live events), each step noted its pid
    for h, pid in zip(hosts, after, strict=True):
        row = page.locator(f'article.svc[data-slug="{h.name}-demo-worker"] [data-f="pid"]')
        expect(row).to_have_text(str(pid))
    phone = browsing.login(server, "olga", viewport=PHONE)
    expect(phone.locator("#rolling")).to_be_visible()
    phone.click("#rolling summary")
    phone.evaluate("() => document.querySelector('#rolling').scrollIntoView()")
    browsing.shot(phone, "rolling-phone")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_operator_cancels_a_rolling_restart_during_its_first_step(browsing, serve, fleet,
                                                                 monkeypatch):
    hosts = fleet[:3]
    server = serve([h.info for h in hosts])
    before = [h.main_pid(WORKER) for h in hosts]
    # The first step really runs; its end is held until the page has sent the cancel.
    first_done, release = hold_first_step(monkeypatch)
    page = browsing.login(server, "olga")
    page.wait_for_selector("html[data-status-loaded]")
    page.click("#rolling summary")
    page.select_option("#rolling-tag", "prod")  # demo-web and demo-worker on every host
    expect(page.locator("#rolling-count")).to_have_text("6 services on 3 hosts")
    page.click("#rolling-start")
    page.click("#confirm-ok")
    try:
        assert first_done.wait(30)
        expect(page.locator("#rolling-steps li").first.locator(".step-state")).to_have_text(
            "Running…")
        page.click("#rolling-cancel")
        # Cancel asks first; "Keep running" changes nothing
        expect(page.locator("#confirm")).to_be_visible()
        expect(page.locator("#confirm-text")).to_contain_text(
            "5 steps not begun yet will be skipped")
        page.get_by_role("button", name="Keep running").click()
        expect(page.locator("#rolling-state")).to_have_text("Running")
        page.click("#rolling-cancel")
        browsing.shot(page, "rolling-cancel-confirm")
        page.click("#confirm-ok")
        expect(page.locator("#rolling-state")).to_have_text("Cancelling…")
        browsing.shot(page, "rolling-cancelling")
    finally:
        release.set()
    expect(page.locator("#rolling-state")).to_have_text("Cancelled", timeout=30_000)
    states = page.locator("#rolling-steps .step-state")
    expect(states).to_have_text(["Done"] + ["Skipped"] * 5)
    expect(page.locator("#rolling-message")).to_contain_text("cancelled by olga")
    browsing.shot(page, "rolling-cancelled")
    assert [h.main_pid(WORKER) for h in hosts] == before  # the first step was demo-web


def test_a_viewer_is_offered_no_rolling_restart(browsing, dashboard):
    page = browsing.login(dashboard, "vic")
    page.wait_for_selector("html[data-status-loaded]")
    expect(page.locator("#rolling")).to_have_count(0)


def test_the_panel_runs_two_hosts_at_once_with_a_pause(browsing, serve, fleet, monkeypatch):
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "0.5")
    hosts = fleet[:4]
    server = serve([h.info for h in hosts])
    page = browsing.login(server, "olga")
    page.click("#rolling summary")
    for h in hosts:
        page.check(f'#rolling input[value="{h.name}-demo-worker"]')
    page.get_by_label("Hosts at once").fill("2")
    page.get_by_label("Pause between hosts (s)").fill("1")
    page.click("#rolling-start")
    expect(page.locator("#confirm-text")).to_contain_text("2 hosts at a time")
    expect(page.locator("#confirm-text")).to_contain_text("1 s apart")
    page.click("#confirm-ok")
    expect(page.locator("#rolling-title")).to_contain_text("2 hosts at once")
    expect(page.locator("#rolling-title")).to_contain_text("1 s between")
    expect(page.locator("#rolling-state")).to_have_text("Succeeded", timeout=60_000)
    page.locator("#rolling").scroll_into_view_if_needed()
    browsing.shot(page, "rolling-batches", full_page=True)
    browsing.assert_no_console_errors()
