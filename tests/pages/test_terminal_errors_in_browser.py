"""The terminal page in Chromium when ssh cannot connect (the host's sshd stopped) or the
host drops the session: it shows what happened, the fix and ssh's own words, the countdown
stops, and the page passes axe in light and dark."""

from __future__ import annotations

import os
import re
import shutil
import time

from axe_playwright_python.sync_playwright import Axe
from browser_fixtures import ARTIFACTS
from helpers import wait_for
from playwright.sync_api import expect

from recon.demo import procs

SHOTS = os.environ.get("RECON_SHOTS_DIR")  # also copy the screenshots there, if set


def _open_terminal(page) -> dict:
    return page.evaluate("""async () => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/terminals', {method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
          body: JSON.stringify({host: 'demo'})});
        return (await r.json()).session;
    }""")


def _countdown_stopped(page) -> None:
    left = page.locator("#term-left")
    expect(left).to_have_text("ended")
    time.sleep(1.5)
    expect(left).to_have_text("ended")


def _axe_clean(page) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        bad = [v["id"] for v in Axe().run(page).response["violations"]
               if v["impact"] in ("serious", "critical")]
        assert not bad, f"{scheme}: {bad}"


def _shot(browsing, page, name: str) -> None:
    path = browsing.shot(page, name)
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        shutil.copy(path, os.path.join(SHOTS, path.name))
    assert path.parent == ARTIFACTS


def test_a_stopped_sshd_shows_connection_refused_its_fix_and_stops_the_countdown(
        browsing, dashboard, target):
    page = browsing.login(dashboard, "olga")
    target.systemctl("stop", "ssh.service")
    try:
        session = _open_terminal(page)
        page.goto(f"/terminals/{session['id']}/")
        state = page.locator("#term-state")
        expect(state).to_have_text("Cannot connect: sshd refused the connection",
                                   timeout=15_000)
    finally:
        target.systemctl("start", "ssh.service")
        target.wait_for_ssh(time.monotonic() + 15)
    alert = page.get_by_role("alert")
    expect(alert.locator("h2")).to_have_text("Cannot connect: sshd refused the connection")
    expect(alert).to_contain_text("Nothing accepts SSH on")
    expect(alert.locator(".term-fix")).to_contain_text(re.compile(r"Fix:.*systemctl start ssh"))
    expect(alert.locator(".term-detail")).to_contain_text("Connection refused")
    _countdown_stopped(page)
    expect(page.get_by_role("button", name="Close terminal")).to_be_disabled()
    page.emulate_media(color_scheme="light")
    _shot(browsing, page, "terminal-error-sshd-refused")
    page.emulate_media(color_scheme="dark")
    _shot(browsing, page, "terminal-error-sshd-refused-dark")
    _axe_clean(page)
    page.reload()  # the closed page, rendered by the server, says the same
    expect(page.get_by_role("alert").locator(".term-fix")).to_contain_text(
        "systemctl start ssh")
    expect(page.locator("#term-left")).to_have_text("ended")


def test_a_session_the_host_drops_says_the_connection_dropped(browsing, dashboard, target):
    page = browsing.login(dashboard, "olga")
    session = _open_terminal(page)
    page.goto(f"/terminals/{session['id']}/")
    # The shell runs on the host (whichever ttyd's page is in the frame: stand-in or real).
    uid = int(target.run(["id", "-u", target.info.terminal_user]).stdout)
    assert wait_for(lambda: any(procs.uid(p) == uid for p in target.processes()), 15)
    expect(page.locator("#term-left")).to_have_text(re.compile(r"^\d+:\d\d$"))
    target.restart_sshd(drop_sessions=True)
    expect(page.locator("#term-state")).to_have_text(
        "Disconnected: the connection to demo dropped", timeout=15_000)
    # What ssh says, when it says anything (at LogLevel=ERROR a plain EOF is wordless; a
    # write into the cut connection says "Broken pipe").
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile("closed by remote host|Broken pipe|dropped"))
    _countdown_stopped(page)
    _shot(browsing, page, "terminal-error-connection-dropped")
