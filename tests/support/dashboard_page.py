"""The dashboard page as the browser tests see it: a service's panel, its buttons, its state
text and dot colour (the CSS custom properties' colours), and waiting until all run."""

from __future__ import annotations

from playwright.sync_api import expect

DEMO = ("demo-web", "demo-worker", "demo-cron", "demo-stuck")
GREEN, RED = "rgb(26, 127, 55)", "rgb(207, 34, 46)"  # --ok-dot, --bad-dot
GREY = "rgb(110, 119, 129)"  # --unk-dot


def panel(page, slug: str):
    return page.locator(f'article.svc[data-slug="{slug}"]')


def button(page, slug: str, action: str):
    return panel(page, slug).locator(f'button[data-action="{action}"]')


def state_of(page, slug: str):
    return panel(page, slug).locator("[data-state-text]")


def dot_colour(page, slug: str) -> str:
    return panel(page, slug).locator(".state .dot").evaluate(
        "d => getComputedStyle(d).backgroundColor")


def wait_all_running(page, slugs=DEMO) -> None:
    for slug in slugs:
        expect(state_of(page, slug)).to_have_text("Running")
