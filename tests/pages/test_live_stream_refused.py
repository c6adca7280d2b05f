"""The dashboard whose live stream the server refuses (issue 24): past the user's cap of event
streams the server answers 429, and the page keeps itself current by its periodic resync,
says so in the toolbar, and asks for the stream again ever later instead of every refresh."""

from __future__ import annotations

import time

from dashboard_page import state_of, wait_all_running
from playwright.sync_api import expect

WATCH_SECONDS = 10.0  # the 2 s refresh would have asked 5 times


def _stream_requests(page) -> list[float]:
    asked: list[float] = []
    page.on("request", lambda req: "/api/events" in req.url and asked.append(
        time.monotonic()))
    return asked


def _refusals_only(browsing) -> None:
    """Chromium logs each refused EventSource as a console error: those are this test's
    subject; anything else still fails it."""
    browsing.errors = [e for e in browsing.errors if "/api/events" not in e and "429" not in e]


def test_a_refused_live_stream_falls_back_to_the_resync_and_backs_off(browsing, serve, target,
                                                                     monkeypatch):
    monkeypatch.setenv("RECON_EVENT_STREAMS_PER_USER", "1")
    server = serve()
    first = browsing.login(server, "olga")
    wait_all_running(first)
    expect(first.locator("#updated")).to_have_text("Live")  # olga's one stream

    second = browsing.context(server).new_page()
    asked = _stream_requests(second)
    second.goto("/login")
    second.fill("#username", "olga")
    second.fill("#password", "correct-horse-battery")
    second.click("button[type=submit]")
    wait_all_running(second)
    expect(second.locator("#updated")).to_contain_text("live updates paused")
    target.systemctl("stop", "demo-worker.service")  # the resync alone brings it
    try:
        expect(state_of(second, "demo-worker")).to_have_text("Stopped", timeout=8000)
    finally:
        target.systemctl("start", "demo-worker.service")
    started = asked[0]
    time.sleep(max(0.0, started + WATCH_SECONDS - time.monotonic()))
    # At 0, after ~2 s, after ~4 s more: the next is ~8 s later.
    assert len([t for t in asked if t - started < WATCH_SECONDS]) <= 3, asked
    browsing.shot(second, "dashboard-live-stream-refused")
    _refusals_only(browsing)
    browsing.assert_no_console_errors()
