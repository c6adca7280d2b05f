"""A host page with 300 units (issue 22): navigation start -> the first rows in the DOM
(the page's ``recon-units-rendered`` mark), in Debian's Chromium, against a real bench host
given extra unit files until it lists 300 or more, RECON served as ``make run`` serves it."""

from __future__ import annotations

import json
import time

from .fleet import Fleet, Server
from .ui_first_paint import CHROMIUM, CHROMIUM_ARGS, summary

EXTRA_UNITS = 180
UNIT = "[Unit]\nDescription=Bench extra unit {i}\n[Service]\nExecStart=/bin/true\n"


def _units(srv: Server, host: str) -> int:
    c = srv.client()
    try:
        code, body = c.request("GET", f"/api/hosts/{host}/units?fresh=1")
        assert code == 200, body
        return len(body["units"])
    finally:
        c.close()


def bench_host_page(f: Fleet, srv: Server, n: int = 20) -> dict:
    from playwright.sync_api import sync_playwright

    host = f.hosts[0]
    for i in range(EXTRA_UNITS):
        host.path(f"/etc/systemd/system/bench-extra-{i}.service").write_text(UNIT.format(i=i))
    host.run(["systemctl", "daemon-reload"])
    count = _units(srv, host.name)
    base = f"http://127.0.0.1:{srv.port}"
    marks = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "bench-ui")
        page.fill("#password", "bench-ui-password")
        page.click("button[type=submit]")
        page.goto(f"{base}/hosts/{host.name}")  # scripts cached, as on any later visit
        for _ in range(n):
            page.goto(f"{base}/hosts/{host.name}")
            page.wait_for_function(
                "() => performance.getEntriesByName('recon-units-rendered').length > 0")
            marks.append(page.evaluate(
                "performance.getEntriesByName('recon-units-rendered')[0].startTime"))
            time.sleep(0.1)
        rows = page.locator("tr[data-unit]").count()
        browser.close()
    return {"host": host.name, "units": count, "rows": rows, "first_rows": summary(marks),
            "note": json.dumps({"extra_unit_files": EXTRA_UNITS})}
