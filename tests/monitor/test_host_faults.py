"""The fleet monitor when a host misbehaves: a host that hangs or stalls under load costs the
healthy ones nothing and comes back by itself, a host without dbus-monitor is polled and says
so, a host down for a while answers a fresh read at once, and a silent link is noticed by
keepalive and replaced."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import replace

from conftest import client_for
from helpers import Tarpit, wait_for

from recon.web.context import runtime


def _sshd_pids_serving(local_port: int) -> list[int]:
    """The sshd processes on the other end of the client connection from ``local_port``."""
    out = subprocess.run(["ss", "-Htnp", "state", "established"], capture_output=True,
                         text=True, check=True).stdout
    pids = set()
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 4 and cols[3].endswith(f":{local_port}") and "sshd" in line:
            pids.update(int(p) for p in re.findall(r"pid=(\d+)", line))
    return sorted(pids)


def _signal_all(pids: list[int], sig: int) -> None:
    """Send ``sig`` to each pid still there (a SIGCONT in a ``finally`` must not fail)."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def test_a_hung_and_a_stalled_host_under_load_cost_healthy_hosts_nothing_and_recover(
        make_app, target_info, tmp_path):
    """Three hosts: the healthy target, the same sshd reached with another key (its own
    connection, whose sshd processes are then SIGSTOPped: a hung host) and a server that
    sends a banner and stalls. 40 clients read status and health meanwhile."""
    key = tmp_path / "hung_key"
    shutil.copy(target_info.key_path, key)
    hung = replace(target_info, name="hung", key_path=key)
    pit = Tarpit(banner=True)
    stall = replace(target_info, name="stall", address="127.0.0.1", port=pit.port)
    app = make_app([target_info, hung, stall], connect_timeout=2, command_timeout=3)
    client = client_for(app)
    rt = runtime(app)
    conn = rt.executor.connection(rt.config.hosts["hung"])
    assert conn.is_connected()
    stopped = _sshd_pids_serving(conn._transport.sock.getsockname()[1])
    assert stopped, "found no sshd process behind the hung host's connection"
    _signal_all(stopped, signal.SIGSTOP)
    try:
        latencies: dict[str, list[float]] = {"status": [], "healthz": [], "fleet": []}
        codes: list[int] = []
        end = time.monotonic() + 8
        paths = {"status": "/api/services/demo-demo-web/status", "healthz": "/healthz",
                 "fleet": "/api/services"}

        def reader(kind: str) -> None:
            c = client_for(app)
            while time.monotonic() < end:
                t0 = time.monotonic()
                resp = c.get(paths[kind])
                latencies[kind].append(time.monotonic() - t0)
                codes.append(resp.status_code)

        action_errors: list[str] = []

        def actor() -> None:
            c = client_for(app)
            while time.monotonic() < end:
                for slug in ("hung-demo-web", "stall-demo-web"):
                    t0 = time.monotonic()
                    # reload: a restart loop would trip systemd's start rate limit
                    resp = c.post(f"/api/services/{slug}/reload")
                    took = time.monotonic() - t0
                    codes.append(resp.status_code)
                    # a failure is answered with what happened within one connect/open
                    # timeout (2 s); a hung connection is replaced, so it may also succeed
                    if resp.status_code != 200 and resp.get_json()["error"] not in (
                            "host_down", "timeout", "unreachable"):
                        action_errors.append(f"{slug}: {resp.get_json()}")
                    # bound: one channel-open timeout (2 s), a reconnect and slack
                    if resp.status_code != 200 and took > 2 * 2 + 1:
                        action_errors.append(f"{slug}: took {took:.1f} s: {resp.get_json()}")

        threads = ([threading.Thread(target=reader, args=("status",)) for _ in range(20)]
                   + [threading.Thread(target=reader, args=("healthz",)) for _ in range(10)]
                   + [threading.Thread(target=reader, args=("fleet",)) for _ in range(8)]
                   + [threading.Thread(target=actor) for _ in range(2)])
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not [c for c in codes if c >= 500 and c not in (502, 503, 504)]
        assert action_errors == []
        # bounds (2 shared cores, 40 threads in one process, GIL): generous -- `make bench`
        # measures the real figures -- but a request that waited on a bad host would take
        # seconds (connect 2 s, command 3 s)
        assert _percentile(latencies["status"], 0.99) < 1.0, latencies["status"][-5:]
        assert _percentile(latencies["healthz"], 0.99) < 1.0
        assert _percentile(latencies["fleet"], 0.99) < 1.0
        hosts = {h["name"]: h for h in client.get("/api/services").get_json()["hosts"]}
        # (40 busy threads in this process can starve the healthy host's Paramiko thread past
        # its 2 s channel open; it must be up again at once when they stop)
        assert wait_for(lambda: {h["name"]: h["state"] for h in client.get("/api/services")
                                 .get_json()["hosts"]}["demo"] == "up", timeout=5)
        assert hosts["stall"]["state"] == "down" and "no SSH handshake" in hosts["stall"]["message"]
        assert conn.replaced >= 1  # the hung connection was thrown away, not waited on
    finally:
        _signal_all(stopped, signal.SIGCONT)
        pit.close()
    # the resumed host is served again by itself (bound: the 8 s back-off plus a read)
    resumed = time.monotonic()
    assert wait_for(lambda: client.get("/api/services/hung-demo-web/status")
                    .get_json()["state"] == "active", timeout=15)
    assert time.monotonic() - resumed < 15
    assert client.post("/api/services/hung-demo-web/restart").get_json()["success"] is True
    # the stalled transport was thrown away: its sshd sessions (late-confirmed channel opens
    # included) end with it instead of holding MaxSessions
    assert wait_for(lambda: all(not os.path.exists(f"/proc/{p}") or _zombie(p)
                                for p in stopped), timeout=10)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_a_host_without_dbus_monitor_is_polled_instead_and_says_so(make_app, target_info,
                                                                   target, monkeypatch):
    from dataclasses import replace as dc_replace

    from conftest import start_monitor

    monkeypatch.setenv("RECON_MONITOR_FALLBACK_POLL_SECONDS", "1")
    app = make_app([target_info], monitor=False)
    hosts = runtime(app).config.hosts
    monkeypatch.setitem(hosts, "demo", dc_replace(hosts["demo"],
                                                  dbus_monitor="/usr/bin/no-such-monitor"))
    start_monitor(app)
    client = client_for(app)
    assert wait_for(lambda: client.get("/api/services").get_json()["hosts"][0]["events"]
                    == "poll", timeout=5)
    target.systemctl("stop", "demo-cron.service")
    try:
        started = time.monotonic()
        assert wait_for(lambda: client.get("/api/services/demo-cron/status").get_json()["state"]
                        == "inactive", timeout=5)
        assert time.monotonic() - started < 2.5  # bound: the 1 s fallback poll plus a read
    finally:
        target.systemctl("start", "demo-cron.service")


def test_a_fresh_read_of_a_host_down_for_a_while_answers_at_once(make_app, target_info):
    from helpers import free_port

    dead = replace(target_info, name="dead", address="127.0.0.1", port=free_port())
    app = make_app([target_info, dead], connect_timeout=2)
    client = client_for(app)
    time.sleep(3.2)  # the rule under test is about the host's age of being down
    started = time.monotonic()
    resp = client.get("/api/services/dead-demo-web/status?fresh=1")
    assert time.monotonic() - started < 0.5  # bound: from the snapshot, no connect attempt
    assert resp.status_code == 503 and resp.get_json()["error"] == "host_down"
    assert resp.get_json()["cause"] == "unreachable"


def test_a_link_that_goes_silent_is_noticed_by_keepalive_and_replaced(make_app, target_info,
                                                                      target, monkeypatch):
    """The monitor's own connection stops answering (its sshd processes SIGSTOPped) while
    nothing changes on the host: no read is due for 15 s, but a keepalive round trip notices
    within seconds, the connection is replaced and changes reach the snapshot again."""
    monkeypatch.setenv("RECON_MONITOR_KEEPALIVE_SECONDS", "1")
    monkeypatch.setenv("RECON_MONITOR_PROBE_TIMEOUT", "2")
    app = make_app([target_info])
    client = client_for(app)
    rt = runtime(app)
    conn = rt.executor.connection(rt.config.hosts["demo"])
    stopped = _sshd_pids_serving(conn._transport.sock.getsockname()[1])
    assert stopped
    _signal_all(stopped, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert wait_for(lambda: conn.replaced >= 1, timeout=10)
        assert time.monotonic() - started < 1 + 2 + 2  # bound: keepalive + its timeout + slack
        target.systemctl("stop", "demo-cron.service")
        assert wait_for(lambda: client.get("/api/services/demo-cron/status").get_json()["state"]
                        == "inactive", timeout=5)
    finally:
        _signal_all(stopped, signal.SIGCONT)
        target.systemctl("start", "demo-cron.service")
