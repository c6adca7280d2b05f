"""A recorded terminal session replayed in real Chromium: a shell on the real target through
the proxy (the ttyd stand-in) prints lines over a few seconds; an admin finds it in the
recordings list, replays it, changes the speed, searches its output and is taken to each
hit's moment (the player shows the text, the timeline stands there), seeks; the audit trail
links to it; an operator gets the 403 page; axe finds nothing serious in light and dark. The
screenshots are kept (test-artifacts/, and RECON_SHOTS when set)."""

from __future__ import annotations

import os
import re
import shutil
import time

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from terminal_fixtures import attach, open_terminal

SHOTS = os.environ.get("RECON_SHOTS")  # also copy the screenshots here (e.g. the notes)


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def recorded_session(server) -> str:
    """An operator's terminal: a marker line, then one line a second, then exit."""
    token = server.app.config["TEST_TOKENS"]["operator"]
    sess = open_terminal(server, token)
    client = attach(server, token, sess)
    client.read_until(b"$ ")
    # st""ep: the echoed command line does not hold what the loop prints
    client.send_input("for i in 1 2 3 4; do echo st\"\"ep-$i-of-four; sleep 1; done; "
                      "echo the-end-$((6*7))\r")
    client.read_until(b"the-end-42", timeout=20)
    client.send_input("exit\r")
    assert client.wait_closed() is not None
    return sess["id"]


def player_time(page) -> float:
    return page.evaluate("window.reconReplay.player().getCurrentTime()")


def test_an_admin_replays_seeks_and_searches_a_recording(browsing, dashboard):
    sid = recorded_session(dashboard)
    page = browsing.login(dashboard, "ada")
    page.goto("/recordings")
    expect(page.locator("#recordings tbody tr")).to_have_count(1)
    expect(page.locator("#recordings")).to_contain_text("test-operator")
    page.click(f'a[href="/recordings/{sid}"] >> nth=0')
    page.wait_for_url(re.compile(f"/recordings/{sid}$"))
    page.wait_for_selector("html[data-replay-playing]")
    started = page.evaluate(
        "performance.getEntriesByName('recon:replay-playing')[0].startTime")
    assert started < 5000  # the bench times it (<= 1 s); here: it plays at all

    # Speed: recreated at the same moment, still playing
    page.select_option("#replay-speed", "4")
    expect(page.locator(".ap-term")).to_be_visible()

    # Search: every hit listed, the first shown at once
    page.fill("#replay-query", "STEP-")  # case-insensitive
    page.click("#replay-search button[type=submit]")
    hits = page.locator("#replay-hits li")
    expect(hits).to_have_count(4)
    expect(page.locator("#replay-status")).to_contain_text("Hit 1 of 4")
    times = page.evaluate("window.reconReplay.hits().map(h => h.time)")
    assert times == sorted(times) and times[-1] - times[0] >= 2.5  # a second apart
    first = player_time(page)
    assert abs(first - times[0]) < 0.05
    expect(page.locator(".ap-term")).to_contain_text("step-1-of-four")
    expect(page.locator(".ap-term")).not_to_contain_text("step-2-of-four")

    page.click("#replay-next")
    expect(page.locator("#replay-status")).to_contain_text("Hit 2 of 4")
    expect(page.locator(".ap-term")).to_contain_text("step-2-of-four")
    assert abs(player_time(page) - times[1]) < 0.05
    hits.nth(3).locator("button").click()
    expect(page.locator("#replay-status")).to_contain_text("Hit 4 of 4")
    expect(page.locator(".ap-term")).to_contain_text("step-4-of-four")
    expect(page.locator(".ap-term")).not_to_contain_text("the-end-42")
    page.click("#replay-prev")
    expect(page.locator("#replay-status")).to_contain_text("Hit 3 of 4")
    expect(page.locator(".ap-term")).not_to_contain_text("step-4-of-four")

    # Seek with the player itself (its keys): back to the start
    page.evaluate("window.reconReplay.seekTo(0)")
    expect(page.locator(".ap-term")).not_to_contain_text("step-1-of-four")
    page.evaluate("window.reconReplay.seekTo(window.reconReplay.player().getDuration())")
    expect(page.locator(".ap-term")).to_contain_text("the-end-42")

    page.fill("#replay-query", "never-printed")
    page.click("#replay-search button[type=submit]")
    expect(page.locator("#replay-status")).to_contain_text("was not shown in this session")
    expect(hits).to_have_count(0)
    page.fill("#replay-query", "step-3")
    page.click("#replay-search button[type=submit]")
    expect(page.locator(".ap-term")).to_contain_text("step-3-of-four")
    time.sleep(0.3)
    shot = browsing.shot(page, "replay-search", full_page=True)
    if SHOTS:
        shutil.copy(shot, os.path.join(SHOTS, "replay-search.png"))

    # The audit trail's terminal entries link to the recording
    page.goto("/audit")
    page.locator("a.recording-link").first.click()
    page.wait_for_url(re.compile(f"/recordings/{sid}$"))
    page.wait_for_selector("html[data-replay-playing]")

    found = _violations(page)
    page.emulate_media(color_scheme="dark")
    found += _violations(page)
    page.goto("/recordings")
    found += _violations(page)
    page.emulate_media(color_scheme="light")
    found += _violations(page)
    assert found == []


def test_an_operator_gets_the_403_page_and_the_terminal_page_says_it_is_recorded(
        browsing, dashboard):
    sid = recorded_session(dashboard)
    page = browsing.login(dashboard, "olga")
    for path in (f"/recordings/{sid}", "/recordings"):
        resp = page.goto(path)
        assert resp.status == 403
        expect(page.locator("h1")).to_have_text("Not allowed")
    # Chromium logs each expected 403 as a failed resource load; nothing else may be logged.
    assert len(browsing.errors) == 2 and all("status of 403" in e for e in browsing.errors)
    browsing.errors = []
    page.goto("/")
    url = page.evaluate("""async () => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/terminals', {method: 'POST', credentials: 'same-origin',
          headers: {'X-CSRF-Token': token, 'Content-Type': 'application/json'},
          body: JSON.stringify({host: 'demo'})});
        return (await r.json()).session.url;
    }""")
    page.goto(url)
    expect(page.locator("#term-recorded")).to_have_text(
        re.compile("Recorded: what is shown \\(not what you type\\); admins can replay it"))
    expect(page.frame_locator("#term-frame").locator("body")).to_contain_text("$ ")
    shot = browsing.shot(page, "terminal-recorded-note")
    if SHOTS:
        shutil.copy(shot, os.path.join(SHOTS, "terminal-recorded-note.png"))
