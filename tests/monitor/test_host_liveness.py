"""Host liveness you can trust (issue 27), against real systemd hosts: a host whose sshd stopped
taking new connections is degraded within one banner probe while its status still works over
the open connection; a frozen host is flagged within 5 s while 20 clients read the fleet, and
neither the healthy hosts nor a busy one raise a false alarm."""

from __future__ import annotations

import os
import signal
import threading
import time

from conftest import client_for
from helpers import wait_for

from recon.demo.host import Host
from recon.monitor.models import MonitorEvent


def _host(client, name: str) -> dict:
    return {h["name"]: h for h in client.get("/api/services").get_json()["hosts"]}[name]


def test_a_host_whose_sshd_stopped_is_degraded_within_one_probe_while_status_still_works(
        make_app, target, target_info, monkeypatch):
    monkeypatch.setenv("RECON_MONITOR_BANNER_SECONDS", "2")
    app = make_app([target_info])
    client = client_for(app)
    assert wait_for(lambda: _host(client, "demo")["state"] == "up", timeout=5)
    endpoint = f"{target_info.address}:{target_info.port}"
    target.systemctl("stop", "ssh.service")  # KillMode=process: RECON's session lives on
    stopped = time.monotonic()
    try:
        assert wait_for(lambda: _host(client, "demo")["state"] == "degraded", timeout=8)
        took = time.monotonic() - stopped
        assert took < 2 + 0.5, f"degraded {took:.1f} s after sshd stopped (probe every 2 s)"
        host = _host(client, "demo")
        assert host["reachable"] is True and host["error"] == "sshd_refusing"
        assert host["degraded"] == (f"sshd at {endpoint} does not accept new connections: "
                                    "connection refused"), host
        assert "systemctl start ssh" in host["hint"]
        # the open connection still reads the units: a change on the host is seen
        target.systemctl("stop", "demo-cron.service")
        assert wait_for(lambda: client.get("/api/services/demo-cron/status").get_json()
                        ["state"] == "inactive", timeout=5)
        assert client.get("/api/services/demo-web/status").get_json()["state"] == "active"
        health = client.get("/healthz").get_json()
        assert health["hosts_degraded"] == 1 and health["hosts_down"] == 0
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'recon_host_sshd_refusing{host="demo"} 1.0' in metrics
    finally:
        target.systemctl("start", "ssh.service")
        target.wait_for_ssh(time.monotonic() + 10)
        target.systemctl("start", "demo-cron.service")
    restarted = time.monotonic()
    assert wait_for(lambda: _host(client, "demo")["state"] == "up", timeout=5)
    assert time.monotonic() - restarted < 2 + 0.5
    assert "degraded" not in _host(client, "demo")
    with app.app_context():
        moves = [(e.from_state, e.to_state) for e in MonitorEvent.query.filter_by(
            kind="host", host="demo").order_by(MonitorEvent.id)]
    assert moves[-2:] == [("up", "degraded"), ("degraded", "up")]


def _freeze(host: Host) -> list[int]:
    """SIGSTOP every process of the container (systemd, sshd and its sessions included),
    again until no new one appears: a frozen machine."""
    stopped: set[int] = set()
    for _ in range(5):
        new = [p for p in host.processes() if p not in stopped]
        if not new:
            break
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
                stopped.add(pid)
            except ProcessLookupError:
                pass
    return sorted(stopped)


def _thaw(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


def test_a_frozen_host_is_flagged_within_5_s_while_20_clients_read_the_fleet(make_app, fleet):
    """Five hosts; one keeps two CPU burners running (busy, not frozen); 20 clients read the
    fleet and statuses throughout. The frozen host is down within 5 s of the freeze; no
    other host leaves `up`; the readers stay fast; the host is back once thawed."""
    app = make_app([h.info for h in fleet])
    client = client_for(app)
    frozen, busy = fleet[0], fleet[1]
    assert wait_for(lambda: all(h["state"] == "up" for h in client.get("/api/services")
                                .get_json()["hosts"]), timeout=10)
    with app.app_context():
        first = MonitorEvent.query.order_by(MonitorEvent.id.desc()).first()
        first_id = first.id if first else 0
    burn = busy.run(["systemd-run", "--unit=burn", "--collect", "sh", "-c",
                     "(while :; do :; done) & (while :; do :; done) & wait"])
    assert burn.returncode == 0
    end = time.monotonic() + 12
    latencies: list[float] = []
    codes: list[int] = []
    paths = ["/api/services", f"/api/services/{busy.name}-demo-web/status",
             f"/api/services/{fleet[2].name}-demo-web/status"]

    def reader(i: int) -> None:
        c = client_for(app)
        while time.monotonic() < end:
            t0 = time.monotonic()
            codes.append(c.get(paths[i % len(paths)]).status_code)
            latencies.append(time.monotonic() - t0)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    pids: list[int] = []
    try:
        time.sleep(2)  # the readers are running; then the freeze
        pids = _freeze(frozen)
        froze = time.monotonic()
        assert pids
        assert wait_for(lambda: _host(client, frozen.name)["state"] == "down", timeout=10,
                        interval=0.02)
        detected = time.monotonic() - froze
        print(f"frozen host flagged down {detected:.2f} s after the freeze")
        assert detected < 5, f"flagged {detected:.1f} s after the freeze"
        assert _host(client, frozen.name)["error"] == "timeout"
        for t in threads:
            t.join(30)
    finally:
        _thaw(pids)
        busy.run(["systemctl", "stop", "burn.service"], check=False)
    assert codes and set(codes) == {200}
    latencies.sort()
    p99 = latencies[int(0.99 * len(latencies))]
    print(f"{len(latencies)} reads, p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms")
    assert p99 < 1.0
    with app.app_context():
        moved = {(e.host, e.to_state) for e in MonitorEvent.query.filter(
            MonitorEvent.id > first_id, MonitorEvent.kind == "host")}
    # (an `up` event of another host is its events mode being recorded, not a state change)
    assert {h for h, to in moved if to != "up"} == {frozen.name}, f"a false alarm: {moved}"
    # thawed, it is read again by itself (the back-off after a failed reconnect: <= 2 s)
    assert wait_for(lambda: _host(client, frozen.name)["state"] == "up", timeout=15)
