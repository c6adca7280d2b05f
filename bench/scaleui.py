"""The dashboard in Chromium at scale: first paint of every status, and a change on the host
reaching the open page.

First paint as :mod:`bench.ui_first_paint` measures it (navigation start -> the page's
``recon:statuses-painted`` mark). Then a change: ``systemctl stop``/``start`` of one unit in
the container -- which is EVERY host entry's unit of that name, since one container stands in
for all of them, so each change is N hosts changing at once (a harsher case than one host). A
MutationObserver on a sample of those rows' panels (or, for a collapsed host, its header's
summary) notes (``Date.now()``) when each first differs; the latency is that minus the time
just before the host-side command (same machine clock).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from .scalehost import ScaleHost
from .ui_first_paint import CHROMIUM, CHROMIUM_ARGS, MARKS, summary

UNIT = "bench-0.service"
# The row's data-state where the row is built; on a large fleet a healthy host is collapsed
# and has no rows, so its header's summary (data-sig: its counts by state) is watched instead.
WATCH = """(pairs) => {
  for (const o of window.__scaleObs || []) o.disconnect();
  window.__scaleObs = []; window.__scaleSeen = {};
  for (const [s, host] of pairs) {
    const row = document.querySelector(`article.svc[data-slug="${s}"]`);
    const el = row || document.querySelector(
      `section.host[data-host="${host}"] [data-summary]`);
    if (!el) continue;
    const attr = row ? "data-state" : "data-sig";
    const before = el.getAttribute(attr);
    const o = new MutationObserver(() => {
      if (el.getAttribute(attr) !== before && !(s in window.__scaleSeen)) {
        window.__scaleSeen[s] = Date.now();
      }
    });
    o.observe(el, {attributes: true, attributeFilter: [attr]});
    window.__scaleObs.push(o);
  }
  return window.__scaleObs.length;
}"""


def change_seen(page, slugs: list[tuple[str, str]], change: Callable[[], None],
                timeout: float = 15, poll: float = 0.05) -> tuple[list[float], int]:
    """Watch the rows of ``slugs`` (slug, host) on the open page, make ``change`` on the
    host(s): the ms from just before it until each row changed, and how many did not
    within ``timeout``."""
    watched = page.evaluate(WATCH, slugs)
    t0 = time.time() * 1000
    change()
    deadline = time.monotonic() + timeout
    seen: dict = {}
    while time.monotonic() < deadline:
        seen = page.evaluate("() => window.__scaleSeen")
        if len(seen) >= watched:
            break
        time.sleep(poll)
    return [v - t0 for v in seen.values()], watched - len(seen)


def ui_at_scale(run, sh: ScaleHost, healthy: list, changes: int, loads: int = 3,
                sample: int = 25) -> dict:
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{run.srv.port}"
    expected = len(healthy) * len(healthy[0].units)
    out: dict = {"services": expected}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{base}/login")
            page.fill("#username", "bench-ui")
            page.fill("#password", "bench-ui-password")
            page.click("button[type=submit]")
            page.wait_for_selector("html[data-status-loaded]")
            marks = []
            for _ in range(loads):
                page.goto(f"{base}/")
                page.wait_for_function(
                    "() => performance.getEntriesByName('recon:statuses-painted').length > 0")
                marks.append(page.evaluate(MARKS))
            out["panels"] = marks[-1]["panels"]
            out["loading_after_paint"] = marks[-1]["loading"]
            out["statuses_painted"] = summary([m["painted_ms"] for m in marks])
            out["html_received"] = summary([m["html_ms"] for m in marks])
            slugs = [(f"{t.name}-{UNIT.removesuffix('.service')}", t.name)
                     for t in random.sample(healthy, min(sample, len(healthy)))]
            latencies, missed = [], 0
            for i in range(changes):
                took, lost = change_seen(
                    page, slugs, lambda i=i: sh.change("stop" if i % 2 == 0 else "start", UNIT))
                latencies += took
                missed += lost
                time.sleep(3)  # let the burst of N reads settle before the next change
            if changes % 2:
                sh.change("start", UNIT)
            out["change_to_page"] = {**(summary(latencies) if latencies else {"n": 0}),
                                     "missed_15s": missed,
                                     "changes": changes, "rows_watched": len(slugs)}
        finally:
            browser.close()
    return out
