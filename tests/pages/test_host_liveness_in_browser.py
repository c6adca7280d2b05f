"""The host header in real Chromium (issue 27): "watched · answered N s ago" stays small for a
healthy host (the live stream tells the answers every second), turns into a warning past the
liveness bound, and a host whose sshd stopped taking new connections reads "Degraded" with the
reason and the fix while its rows stay current; axe clean in light and dark."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from dashboard_page import state_of, wait_all_running
from playwright.sync_api import expect
from test_accessibility import _violations

SHOTS = Path("/work/notes/shots")


def _keep(path: Path) -> None:
    """A copy of a screenshot where the issue's notes collect them (when that folder exists)."""
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)


def test_the_host_header_says_when_the_host_answered_and_when_sshd_refuses(
        browsing, serve, target, monkeypatch):
    monkeypatch.setenv("RECON_MONITOR_BANNER_SECONDS", "1")
    server = serve()
    page = browsing.login(server, "ada")
    wait_all_running(page)
    fresh = page.locator('section.host[data-host="demo"] [data-fresh]')
    small = re.compile(r"^watched · answered (just now|[1-3] s ago)$")
    for _ in range(5):  # a healthy host keeps a small number
        expect(fresh).to_have_text(small)
        expect(fresh).not_to_have_class(re.compile("fresh-late"))
        time.sleep(0.8)
    expect(fresh).to_have_attribute("title", re.compile(r"marks it unreachable when it stays "
                                                        r"silent for 3 s"))
    _keep(browsing.shot(page, "liveness-answered"))

    # what the page shows when what it knows is older than the bound (e.g. its stream died)
    page.evaluate("""() => {
        const s = document.querySelector('section.host[data-host="demo"]');
        const at = performance.now();
        Object.defineProperty(s, "_answered", {get: () => ({age: 12, at, bound: 3}),
                                               set: () => {}, configurable: true});
    }""")
    expect(fresh).to_have_text(re.compile(r"^watched · answered 1\d s ago$"))
    expect(fresh).to_have_class(re.compile("fresh-late"))
    _keep(browsing.shot(page, "liveness-answered-late"))
    page.evaluate("""() => { delete document.querySelector(
        'section.host[data-host="demo"]')._answered; }""")

    reach = page.locator('section.host[data-host="demo"] [data-reach]')
    box = page.locator('section.host[data-host="demo"] [data-host-error]')
    target.systemctl("stop", "ssh.service")
    try:
        expect(reach).to_have_text("Degraded")
        expect(box.locator("[data-err-code]")).to_have_text("sshd_refusing")
        expect(box.locator("[data-err-message]")).to_have_text(re.compile(
            r"^sshd at [0-9.]+:22 does not accept new connections: connection refused$"))
        expect(box.locator("[data-err-hint]")).to_contain_text("systemctl start ssh")
        expect(state_of(page, "demo-web")).to_have_text("Running")  # still read
        expect(fresh).to_have_text(small)
        found = _violations(page)
        _keep(browsing.shot(page, "liveness-sshd-degraded"))
        page.emulate_media(color_scheme="dark")
        found += _violations(page)
        _keep(browsing.shot(page, "liveness-sshd-degraded-dark"))
        assert not found, "axe-core found:\n" + "\n".join(found)
    finally:
        target.systemctl("start", "ssh.service")
        target.wait_for_ssh(time.monotonic() + 10)
    expect(reach).to_have_text("Reachable")
    expect(box).to_be_hidden()
