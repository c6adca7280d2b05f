"""The unit page as a workbench in real Chromium against the real host: the row's actions
with the row's rules and who changed the unit last, its logs read and followed, the timer's
next run counting down with the schedule in words and the .timer file, axe clean in light and
dark; and on the dashboard a crash-looping unit that "Problems only" shows beside an idle,
timer-run oneshot it leaves out. Screenshots: test-artifacts/workbench-*.png."""

from __future__ import annotations

import dataclasses
import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

WORKER = "demo-worker.service"
FAIL_EVERY_SECOND = """[Unit]
StartLimitIntervalSec=0
[Service]
ExecStart=
ExecStart=/bin/sh -c 'exit 1'
Restart=always
RestartSec=1
"""


@pytest.fixture
def server(serve, target):
    """RECON for the target plus demo-backup, the oneshot its timer runs every minute (the
    config names its timer); the host's sudoers drop-in covers its journal too meanwhile."""
    original = target.info
    target.info = dataclasses.replace(original, units=(*original.units, "demo-backup.service"))
    target.install_sudoers()
    try:
        yield serve([target.info])
    finally:
        target.info = original
        target.install_sudoers()


def _serious(page) -> list[str]:
    return [f"{v['id']}: {v['help']}" for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_the_unit_page_acts_like_the_row_and_shows_logs_and_who_changed_it(
        browsing, server, target):
    page = browsing.login(server, "olga")
    page.goto("/services/demo-web")
    state = page.locator("#u-state [data-state-text]")
    expect(state).to_have_text("Running")
    stop, start = page.locator('#unit button[data-action="stop"]'), page.locator(
        '#unit button[data-action="start"]')
    expect(start).to_be_disabled()
    expect(start).to_have_attribute("title", "Already running")
    try:
        stop.click()
        expect(page.locator("#confirm-text")).to_contain_text("systemctl stop demo-web.service")
        page.click("#confirm-ok")
        expect(state).to_have_text("Stopped")
        expect(page.locator("#u-changed")).to_have_text(
            re.compile(r"^Stopped by olga · \d\d:\d\d$"))
        expect(page.locator("#u-feedback")).to_contain_text("stop demo-web.service: done")
        expect(page.locator("#u-timeline")).to_contain_text("stopped by olga")
        browsing.shot(page, "workbench-stopped")
        start.click()
        expect(state).to_have_text("Running")
        expect(page.locator("#u-changed")).to_have_text(re.compile(r"^Started by olga"))
    finally:
        target.systemctl("start", "demo-web.service", check=False)
    # the logs: the dashboard's drawer, read then followed
    page.click("#u-logs")
    drawer = page.locator("#logs")
    expect(drawer).to_be_visible()
    expect(page.locator("#logs-view .line, #logs-view > *").first).to_be_visible()
    page.check("#logs-follow")
    expect(page.locator("#logs-live")).to_contain_text(re.compile("Following|Live", re.I))
    marker = f"workbench-{time.time():.0f}"
    time.sleep(0.5)
    target.emit("demo-web.service", marker)
    expect(page.locator("#logs-view")).to_contain_text(marker, timeout=10_000)
    browsing.shot(page, "workbench-logs")
    page.click("#logs-close")
    # the dashboard's row says who changed it too
    page.goto("/")
    expect(page.locator('article[data-slug="demo-web"] [data-desc]')).to_contain_text(
        "Started by olga")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_timer_card_counts_down_in_words_and_the_page_is_axe_clean(
        browsing, server, scheme, target):
    target.systemctl("reset-failed", "demo-backup.service", check=False)
    page = browsing.login(server, "olga")
    page.emulate_media(color_scheme=scheme)
    page.goto("/services/demo-backup")
    facts = page.locator("#u-timer")
    nxt = facts.locator("dd").nth(1)
    # (while a run is on, systemd has no next elapse yet: the page says so and reads again)
    expect(nxt).to_have_text(re.compile(r"^\d\d:\d\d:\d\d \((in \d+ s|due now)\)$"),
                             timeout=15_000)
    # a live countdown: it moves (every future time used to say "0 s")
    seconds = [int(m.group(1)) for m in [re.search(r"in (\d+) s", nxt.inner_text())] if m]
    page.wait_for_timeout(2100)
    later = re.search(r"in (\d+) s", nxt.inner_text())
    if seconds and later and int(later.group(1)) < seconds[0]:
        pass
    else:  # the minute turned over between the two reads ("due now"): once more
        expect(nxt).to_have_text(re.compile(r"in (\d+) s"), timeout=10_000)
        first = int(re.search(r"in (\d+) s", nxt.inner_text()).group(1))
        page.wait_for_timeout(2100)
        assert int(re.search(r"in (\d+) s", nxt.inner_text()).group(1)) < first
    expect(facts.locator("dd").nth(3)).to_have_text("every minute")
    # the last run's result, in words: the timer runs it every minute, so the host's own
    # answer may change between a read here and the page's (a run may fail, e.g. exit 219)
    expect(facts.locator("dd").nth(2)).to_have_text(
        re.compile(r"succeeded|never|running now|failed \((exit code \d+|killed by \w+|[\w-]+)\)"))
    page.click(".timer-file summary")
    expect(page.locator("#u-timer-file")).to_contain_text("OnCalendar=minutely")
    page.click("#u-runs-box summary")
    expect(page.locator("#u-runs li").first).not_to_have_text("Loading…")
    expect(page.locator("#u-runs")).not_to_contain_text("unavailable")
    # idle between runs -- or Failed, when the host says its last run failed (it fails now
    # and then on a busy host: exit 219)
    failed = target.run(["systemctl", "is-failed", "demo-backup.service"],
                        check=False).stdout.strip() == "failed"
    expect(page.locator("#u-state [data-state-text]")).to_have_text(
        "Failed" if failed else re.compile("Idle|Activating"))
    page.wait_for_load_state("networkidle")
    browsing.shot(page, f"workbench-timer-{scheme}", full_page=True)
    assert _serious(page) == []
    page.goto("/services/demo-web")
    expect(page.locator("#u-state [data-state-text]")).to_have_text("Running")
    page.click("#u-logs")
    expect(page.locator("#logs")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert _serious(page) == []


def test_problems_only_shows_a_crash_loop_and_leaves_out_an_idle_timer_run_unit(
        browsing, server, target, monkeypatch):
    page = browsing.login(server, "olga")
    page.wait_for_selector("html[data-status-loaded]")
    backup = page.locator('article[data-slug="demo-backup"]')
    expect(backup.locator("[data-state-text]")).to_have_text(re.compile("Idle|Activating"))
    target.set_dropin(WORKER, "crashloop", FAIL_EVERY_SECOND)
    try:
        target.systemctl("restart", WORKER)
        worker = page.locator('article[data-slug="demo-worker"]')
        expect(worker.locator("[data-state-text]")).to_have_text("Crash-looping", timeout=30_000)
        expect(worker.locator("[data-desc]")).to_contain_text(
            re.compile(r"Crash-looping: \d+ automatic restarts in 5 min · last: exit code 1 at"))
        expect(page.locator('.count[data-count="crashloop"]')).to_be_visible()
        page.check("#problems-only")
        expect(worker).to_be_visible()
        expect(backup).to_be_hidden()
        expect(page.locator('article[data-slug="demo-web"]')).to_be_hidden()
        browsing.shot(page, "workbench-crashloop-problems-only")
    finally:
        target.set_dropin(WORKER, "crashloop", None)
        target.systemctl("restart", WORKER)
