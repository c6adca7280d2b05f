"""Two gunicorn workers, one truth: after an action answers, every read from any worker
shows its result, and only one process monitors the hosts."""

from __future__ import annotations

import http.client
import json
import os
import signal

from conftest import build_app
from helpers import Gunicorn, wait_for

from recon.db.extensions import db
from recon.monitor.models import MonitorLease


def _call(port: int, method: str, path: str, token: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # new connection each
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_reads_after_an_action_are_never_stale_across_two_workers(tmp_path, target_info):
    app = build_app(tmp_path, [target_info])
    token = app.config["TEST_TOKENS"]["operator"]
    log = tmp_path / "access.log"
    with Gunicorn(app, workers=2, access_log=str(log)) as server:
        stale, reads = [], 0
        for cycle in range(10):
            for action, want in (("stop", "inactive"), ("start", "active")):
                code, body = _call(server.port, "POST", f"/api/services/demo-worker/{action}",
                                   token)
                assert code == 200 and body["success"] is True, body
                for _ in range(3):
                    _, got = _call(server.port, "GET", "/api/services/demo-worker/status", token)
                    reads += 1
                    if got["state"] != want:
                        stale.append((cycle, action, got["state"]))
        assert reads == 60 and stale == []
        served_by = {line.split()[0].strip("<>") for line in log.read_text().splitlines()
                     if "/status" in line}
        assert len(served_by) == 2, "both workers should have served status reads"
        with app.app_context():
            leases = db.session.scalars(db.select(MonitorLease)).all()
        assert len(leases) == 1 and leases[0].owner.split(":")[1] in served_by
        # the holder dies: the other worker takes the monitor over within the lease time
        holder = int(leases[0].owner.split(":")[1])
        os.kill(holder, signal.SIGKILL)

        def new_owner():
            with app.app_context():
                db.session.expire_all()
                lease = db.session.scalars(db.select(MonitorLease)).first()
                return lease is not None and int(lease.owner.split(":")[1]) != holder

        assert wait_for(new_owner, timeout=20)  # bound: 10 s lease + 2 s renew + slack
