"""Two RECON replicas on one real PostgreSQL behind nginx (deploy/nginx/recon-replicas.conf),
three real systemd hosts (issue 25): kill -9 of one replica while 20 clients read through
nginx, a rolling restart runs and a webhook receiver listens. The hosts are watched again by
the survivor within 15 s, the clients get only answers from it once nginx moved them (no 5xx
past the failover window), the rolling run ends (completed, or interrupted if it was the
dead replica's), and each notification arrives exactly once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

import pg_cluster
import pytest
import sqlalchemy as sa
from conftest import build_app
from helpers import Gunicorn, wait_for
from nginx_server import NGINX, REPLICAS, Nginx, replica_upstreams
from notify_receivers import WebhookReceiver, hook_toml

from recon.db.extensions import db
from recon.monitor.models import HostLease, MonitorLease

WORKER = "demo-worker.service"
pytestmark = [pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is not installed"),
              pytest.mark.skipif(pg_cluster.unavailable_reason() is not None,
                                 reason="no PostgreSQL")]


def _owners(app) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(sa.select(HostLease).where(
            HostLease.expires_at > time.time(), HostLease.state == "watching")).all()
        db.session.remove()
    return {r.host: r.owner.split(":")[1] for r in rows}


def _pids(server: Gunicorn) -> set[str]:
    import subprocess
    out = subprocess.run(["pgrep", "-g", str(server.proc.pid)], capture_output=True, text=True)
    return set(out.stdout.split())


def test_kill_9_of_a_replica_moves_hosts_clients_and_duties_to_the_other(
        tmp_path, fleet, monkeypatch):
    monkeypatch.setenv("RECON_TEST_DATABASE", "postgresql")
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "2")
    hosts = fleet[:3]
    hook = WebhookReceiver()
    app = build_app(tmp_path, [h.info for h in hosts],
                    extra_toml=hook_toml("ops", hook.url, for_seconds=0))
    token = app.config["TEST_TOKENS"]["operator"]
    auth = {"Authorization": f"Bearer {token}"}
    env = {"RECON_TRUSTED_PROXIES": "127.0.0.1"}
    a = Gunicorn(app, workers=1, env=env, error_log=str(tmp_path / "a.log")).start()
    b = Gunicorn(app, workers=1, env=env, error_log=str(tmp_path / "b.log")).start()
    nginx = Nginx(tmp_path, 0, conf=REPLICAS, upstreams=replica_upstreams([a.port, b.port]))
    names = {h.name for h in hosts}
    stop, results = threading.Event(), []

    def client() -> None:
        while not stop.is_set():
            try:
                status, _, _ = nginx.request("GET", "/api/services", headers=auth)
            except OSError:
                status = 0
            results.append((time.time(), status))
            time.sleep(0.05)

    try:
        # both replicas watch a share of the hosts
        assert wait_for(lambda: set(_owners(app)) == names, timeout=40), _owners(app)
        threads = [threading.Thread(target=client, daemon=True) for _ in range(20)]
        for t in threads:
            t.start()
        status, body, _ = nginx.request(
            "POST", "/api/actions", headers={**auth, "Content-Type": "application/json"},
            body=b'{"action": "restart", "services": ["web1-demo-worker", "web2-demo-worker",'
                 b' "web3-demo-worker"]}')
        assert status == 202, body
        run_id = __import__("json").loads(body)["id"]
        time.sleep(1)
        # the replica that holds the fleet lease (the notifier) dies, and a unit fails
        with app.app_context():
            leader = db.session.scalars(sa.select(MonitorLease)).one().owner.split(":")[1]
            db.session.remove()
        # the one that watches hosts (the leader if both do): its hosts must move
        watching = set(_owners(app).values())
        holds = [s for s in (a, b) if _pids(s) & watching]
        dead = next((s for s in holds if leader in _pids(s)), holds[0])
        alive = b if dead is a else a
        os.killpg(dead.proc.pid, signal.SIGKILL)
        killed_at = time.time()
        hosts[0].run(["kill", "-9", str(hosts[0].main_pid(WORKER))], check=False)
        survivors = _pids(alive)
        assert wait_for(lambda: set(_owners(app)) == names
                        and set(_owners(app).values()) <= survivors, timeout=15), _owners(app)
        watched_after = time.time() - killed_at
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join(5)
        # no 5xx past the failover window that nginx's retry cannot hide
        late = [(round(t - killed_at, 1), s) for t, s in results
                if t > killed_at + 12 and s != 200]
        assert not late, late
        assert sum(s == 200 for _, s in results) > 100

        # the rolling run ends: done by the survivor, or interrupted with the dead one
        def run_state():
            status, body, _ = nginx.request("GET", f"/api/actions/{run_id}", headers=auth)
            state = __import__("json").loads(body)["state"] if status == 200 else None
            return state if state in ("succeeded", "interrupted", "failed") else None
        assert wait_for(run_state, timeout=150, interval=1), run_state()

        # the failure is told once, by whichever replica holds the notifier now
        svc = f"{hosts[0].name}-demo-worker"
        assert wait_for(lambda: svc in {b["service"] for b in hook.bodies("unit_failed")},
                        timeout=30), hook.bodies()
        time.sleep(3)
        told = Counter(b["service"] for b in hook.bodies("unit_failed"))
        assert told[svc] == 1, told
        print(f"hosts watched again {watched_after:.1f} s after the kill; "
              f"{len(results)} reads, {Counter(s for _, s in results)}")
    finally:
        stop.set()
        nginx.stop()
        a.stop()
        b.stop()
        hook.close()
        for h in hosts:
            h.systemctl("start", WORKER, check=False)
