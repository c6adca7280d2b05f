"""What one user's reads may make a real host do: concurrent ``GET .../unit`` of a unit share
one read (kept a few seconds for everyone, dropped after an action on the unit, in every
worker), and one user's log reads past their bound are refused with 429 and Retry-After;
an operator's restart meanwhile goes through as usual."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from conftest import build_app, client_for, requested_commands
from helpers import Gunicorn
from stream_clients import bearer, call

from recon.web.ratelimit import BURST, PER_SECOND

UNIT = "/api/services/demo-web/unit"
COMMANDS_PER_READ = 3  # cat, show, status (demo-web has no timer)


def _sent_for(target, before: int, unit: str, tool: str = "systemctl") -> list[str]:
    return [c for c in requested_commands(target.command_log()[before:])
            if unit in c and tool in c]


def test_concurrent_unit_reads_of_one_viewer_send_one_read_to_the_host(app, target):
    before = len(target.command_log())
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda _: client_for(app, "viewer").get(UNIT), range(64)))
    assert Counter(a.status_code for a in answers) == {200: 64}
    pids = {a.get_json()["properties"]["MainPID"] for a in answers}
    assert pids == {str(target.main_pid("demo-web.service"))}
    sent = _sent_for(target, before, "demo-web.service")
    # one read; a second only if the first outlived the cache's few seconds
    assert len(sent) <= 2 * COMMANDS_PER_READ, sent


def test_a_restart_during_a_flood_of_reads_completes_and_the_next_read_shows_it(app, target):
    old = target.main_pid("demo-web.service")
    assert client_for(app, "viewer").get(UNIT).get_json()["properties"]["MainPID"] == str(old)
    stop, flooded = threading.Event(), Counter()

    def flood() -> None:
        viewer = client_for(app, "viewer")
        while not stop.is_set():
            flooded[viewer.get(UNIT).status_code] += 1

    threads = [threading.Thread(target=flood) for _ in range(16)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        started = time.monotonic()
        resp = client_for(app, "operator").post("/api/services/demo-web/restart")
        took = time.monotonic() - started
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert resp.status_code == 200 and resp.get_json()["success"] is True, resp.get_json()
    assert took < 5, f"the restart took {took:.1f} s under the flood"
    assert set(flooded) == {200} and sum(flooded.values()) > 16
    new = target.main_pid("demo-web.service")
    assert new != old
    # at once (well within the cache's seconds): the read the restart left behind
    body = client_for(app, "viewer").get(UNIT).get_json()
    assert "properties" in body, body  # an error answer says which
    assert body["properties"]["MainPID"] == str(new)
    assert f"Main PID: {new}" in body["status_text"]


def test_an_action_in_one_worker_refreshes_the_unit_reads_kept_by_both(tmp_path, target_info):
    app = build_app(tmp_path, [target_info])
    viewer, operator = (app.config["TEST_TOKENS"][r] for r in ("viewer", "operator"))
    log = tmp_path / "access.log"
    path = "/api/services/demo-worker/unit"
    with Gunicorn(app, workers=2, access_log=str(log)) as server:
        stale = []
        for _ in range(4):
            for action, want in (("stop", "inactive"), ("start", "active")):
                for _ in range(4):  # fill both workers' caches
                    call(server.port, "GET", path, bearer(viewer))
                code, body = call(server.port, "POST", f"/api/services/demo-worker/{action}",
                                  bearer(operator))
                assert code == 200 and body["success"] is True, body
                for _ in range(4):
                    _, got = call(server.port, "GET", path, bearer(viewer))
                    if got["properties"]["ActiveState"] != want:
                        stale.append((action, got["properties"]["ActiveState"]))
        assert stale == []
        served_by = {line.split()[0].strip("<>") for line in log.read_text().splitlines()
                     if "/unit" in line}
        assert len(served_by) == 2, "both workers should have served unit reads"


def test_one_viewers_flood_of_log_reads_is_refused_past_its_bound(app, target):
    before = len(target.command_log())
    logs = "/api/services/demo-web/logs?lines=5"
    started = time.monotonic()
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda _: client_for(app, "viewer").get(logs), range(80)))
    took = time.monotonic() - started
    codes = Counter(a.status_code for a in answers)
    assert set(codes) == {200, 429}, codes
    for refused in (a for a in answers if a.status_code == 429):
        body = refused.get_json()
        assert body["error"] == "too_many_reads" and body["hint"], body
        assert int(refused.headers["Retry-After"]) >= 1
    sent = _sent_for(target, before, "demo-web.service", "journalctl")
    # the burst, and what the bucket refilled meanwhile; a read is one journalctl (two when
    # the host's journalctl turns out to lack JSON output)
    assert codes[200] <= BURST + PER_SECOND * took, (codes, took)
    assert len(sent) <= 2 * codes[200], (codes, len(sent))
    # the bound is the viewer's: another user reads as usual
    assert client_for(app, "operator").get(logs).status_code == 200
