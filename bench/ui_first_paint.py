"""First paint with statuses: how long until the dashboard shows every service's state.

Against the benchmark fleet (5 real hosts, systemd in nspawn, x 10 units = 50 services) and
RECON served as ``make run`` serves it (gunicorn subprocess, see :mod:`bench.fleet`): logs in
through the form in Debian's Chromium (Playwright) and loads ``/`` once. Then, for each of
``n`` loads: navigation start -> the page's ``recon:statuses-painted`` mark (statuses in the
DOM and two animation frames later, i.e. painted). Run: ``python -m bench.ui_first_paint
[-n 20]`` (root: it boots the hosts).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from .fleet import Fleet, Server, fleet, serve

RESULTS = Path(__file__).parent / "results"
CHROMIUM = os.environ.get("RECON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--disable-dev-shm-usage"]
MARKS = """() => {
  const get = n => (performance.getEntriesByName(n)[0] || {}).startTime;
  const nav = performance.getEntriesByType('navigation')[0];
  return {html_ms: nav.responseEnd, dom_ready_ms: nav.domContentLoadedEventEnd,
          statuses_ms: get('recon:statuses'), painted_ms: get('recon:statuses-painted'),
          panels: document.querySelectorAll('article.svc').length,
          loading: document.querySelectorAll('article.svc[data-state="loading"]').length};
}"""


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "max_ms": round(ordered[-1], 1), "n": len(ordered)}


def bench_ui_first_paint(f: Fleet, srv: Server, n: int) -> dict:
    """n warm loads of the dashboard in Chromium (the viewer ``bench-ui`` exists: fleet.py)."""
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{srv.port}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "bench-ui")
        page.fill("#password", "bench-ui-password")
        page.click("button[type=submit]")
        page.wait_for_selector("html[data-status-loaded]")
        loads, api_ms = [], []
        for _ in range(n):
            with page.expect_response(lambda r: r.url.endswith("/api/services")) as resp:
                page.goto(f"{base}/")
            page.wait_for_function(  # a function: the page's CSP forbids eval()
                "() => performance.getEntriesByName('recon:statuses-painted').length > 0")
            marks = page.evaluate(MARKS)
            assert marks["panels"] == len(f.infos) * len(f.infos[0].units), marks
            assert marks["loading"] == 0, marks
            loads.append(marks)
            api_ms.append(resp.value.json()["duration_ms"])
            time.sleep(0.2)
        browser.close()
    return {
        "services": loads[0]["panels"], "hosts": len(f.infos),
        "statuses_painted": summary([m["painted_ms"] for m in loads]),
        "statuses_in_dom": summary([m["statuses_ms"] for m in loads]),
        "html_received": summary([m["html_ms"] for m in loads]),
        "api_services_server_side": summary(api_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="page loads to measure")
    parser.add_argument("--hosts", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the benchmark builds real SSH targets and needs root")
    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                     "cpus": os.cpu_count()}
    with fleet(args.hosts) as f, serve(f.workdir, "ui", f.infos, f.known_hosts) as srv:
        r = results["ui_first_paint"] = bench_ui_first_paint(f, srv, args.n)
    print(f"{r['services']} services on {r['hosts']} hosts, from the monitor's snapshot, "
          f"{r['statuses_painted']['n']} loads:")
    for key in ("html_received", "statuses_in_dom", "statuses_painted",
                "api_services_server_side"):
        s = r[key]
        print(f"  {key:26} median {s['median_ms']:7.1f} ms   p95 {s['p95_ms']:7.1f} ms   "
              f"max {s['max_ms']:7.1f} ms")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"ui_first_paint-{results['when'].replace(':', '')}.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
