"""The terminal page in Chromium when the RECON server that ran the terminal is gone (a
replica killed; tests/deploy/test_replica_terminals.py kills one for real): the page says
so, names the dead server, gives the fix (open a new terminal), stops the countdown, says
the same once reloaded, and passes axe in light and dark. Here the dead server is the
session's recorded spawner pointed at a process that has exited -- what the survivor sees."""

from __future__ import annotations

import re
import subprocess
import sys

import sqlalchemy as sa
from playwright.sync_api import expect
from test_terminal_errors_in_browser import _axe_clean, _countdown_stopped, _open_terminal, _shot

from recon.core.process import describe, process_id
from recon.db.extensions import db
from recon.terminals.models import TerminalSession

TITLE = "Ended: the RECON server running this terminal is gone"


def test_a_terminal_whose_server_died_says_so_names_it_and_says_open_a_new_one(
        browsing, dashboard):
    page = browsing.login(dashboard, "olga")
    session = _open_terminal(page)
    page.goto(f"/terminals/{session['id']}/")
    expect(page.locator("#term-left")).to_have_text(re.compile(r"^\d+:\d\d$"))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    spawner = process_id(dead.pid)
    dead.wait()
    with dashboard.app.app_context():
        db.session.execute(sa.update(TerminalSession).where(
            TerminalSession.id == session["id"]).values(spawner=spawner))
        db.session.commit()
        db.session.remove()
    expect(page.locator("#term-state")).to_have_text(TITLE, timeout=10_000)
    alert = page.get_by_role("alert")
    expect(alert.locator("h2")).to_have_text(TITLE)
    expect(alert).to_contain_text(f"({describe(spawner)})")
    expect(alert.locator(".term-fix")).to_contain_text(re.compile(r"Fix:.*Open a new terminal"))
    _countdown_stopped(page)
    expect(page.get_by_role("button", name="Close terminal")).to_be_disabled()
    page.emulate_media(color_scheme="light")
    _shot(browsing, page, "terminal-server-gone")
    _axe_clean(page)
    page.reload()  # the closed page, rendered by the server, says the same
    expect(page.get_by_role("alert").locator("h2")).to_have_text(TITLE)
    expect(page.get_by_role("alert")).to_contain_text(describe(spawner))
    expect(page.locator("#term-left")).to_have_text("ended")
