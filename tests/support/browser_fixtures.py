"""Fixtures for the browser tests: Debian's Chromium driven by Playwright's Python API, the app
served over real HTTP, users that log in through the login form, console-error capture and
screenshots under ``test-artifacts/`` (on every run, and of every open page on failure).

Playwright's own browser download is impossible here: ``executable_path`` points at Debian's
chromium (``apt-get install chromium``; ``make test`` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from helpers import ROOT
from terminal_fixtures import LiveServer, close_all

from recon.auth.accounts import create_user

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("RECON_CHROMIUM", "/usr/bin/chromium")
# Without the networking switches Chromium keeps dialling Google on this closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct-horse-battery"
USERS = {"olga": "operator", "vic": "viewer", "ada": "admin"}


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make test does it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    for stale in ARTIFACTS.glob("FAILED-*.png"):  # only this run's failures stay
        stale.unlink()

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def add_users(app: Flask) -> None:
    with app.app_context():
        for name, role in USERS.items():
            create_user(name, PASSWORD, role)


@pytest.fixture
def serve(make_app, target_info, term_env, monkeypatch, request):
    """``serve(infos=None)``: RECON for ``infos`` (default: the real target) over real HTTP,
    terminals through the ttyd stand-in, one user per role, a 2 s refresh."""
    monkeypatch.setenv("RECON_REFRESH_SECONDS", "2")
    servers: list[LiveServer] = []

    def start(infos=None) -> LiveServer:
        app = make_app(infos or [target_info])
        add_users(app)
        server = LiveServer(app)
        server.app = app
        servers.append(server)
        return server

    yield start
    if "browsing" in request.fixturenames:
        # Pages still open would log the server's shutdown (refused requests) as errors.
        request.getfixturevalue("browsing").frozen = True
    for server in servers:
        server.stop()
        close_all(server.app)


@pytest.fixture
def dashboard(serve) -> LiveServer:
    """RECON against the real target, served over HTTP."""
    return serve()


def slugify(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


class Browsing:
    """Pages of one test: every console error and uncaught exception is collected."""

    def __init__(self, browser, request: pytest.FixtureRequest):
        self.browser = browser
        self.request = request
        self.contexts = []
        self.errors: list[str] = []
        self.frozen = False  # set when the test's servers stop: later errors are theirs
        ARTIFACTS.mkdir(exist_ok=True)

    def context(self, server: LiveServer, viewport=DESKTOP):
        ctx = self.browser.new_context(viewport=viewport, base_url=server.url)
        ctx.set_default_timeout(10_000)
        ctx.on("console", lambda msg: msg.type == "error" and self._error(
            f"console error on {msg.location.get('url', '?')}: {msg.text}"))
        ctx.on("weberror", lambda err: self._error(f"uncaught: {err.error}"))
        self.contexts.append(ctx)
        return ctx

    def _error(self, text: str) -> None:
        if not self.frozen:
            self.errors.append(text)

    def login(self, server: LiveServer, username: str, viewport=DESKTOP,
              password: str = PASSWORD):
        """A new browser context logged in through the login form; returns its page."""
        page = self.context(server, viewport).new_page()
        page.goto("/")
        page.wait_for_url(re.compile(r"/login"))
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/(\?.*)?$"))
        return page

    def shot(self, page, name: str, full_page: bool = False) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_no_console_errors(self) -> None:
        errors, self.errors = self.errors, []
        assert not errors, "browser console errors:\n" + "\n".join(errors)

    def close(self, failed: bool) -> None:
        for i, ctx in enumerate(self.contexts):
            if failed:
                for j, page in enumerate(ctx.pages):
                    try:
                        page.screenshot(path=str(ARTIFACTS / (
                            f"FAILED-{slugify(self.request.node.name)}-{i}-{j}.png")),
                            full_page=True, timeout=5000)
                    except Exception:  # a crashed page must not hide the real failure
                        pass
            ctx.close()


@pytest.fixture
def browsing(browser, request) -> Iterator[Browsing]:
    b = Browsing(browser, request)
    failed_before = request.session.testsfailed
    yield b
    b.close(failed=request.session.testsfailed > failed_before)
    # Errors no assertion picked up still fail the run (at teardown).
    b.assert_no_console_errors()
