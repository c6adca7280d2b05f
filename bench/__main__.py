"""``python -m bench``: one table, side by side, written to bench/results/ as JSON.

Builds its own fleet on loopback (5 real hosts, systemd in nspawn, x 10 demo units) and
measures RECON's API against the floor (a bare Paramiko exec on an already open transport)
and the runbook's way (a fresh `ssh` process per call, parsing `systemctl status`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import paramiko

from recon.config import HostConfig
from recon.ssh import Executor, HostKeyStore
from recon.systemd import action_argv, show_argv

from .fleet import Fleet, fleet, serve
from .runbook import runbook_status, ssh_argv, stop_master
from .terminals import bench_terminals
from .ui_first_paint import bench_ui_first_paint

RESULTS = Path(__file__).parent / "results"


def times(fn: Callable[[], object], n: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(p(0.95), 2),
            "p99_ms": round(p(0.99), 2), "n": len(ordered)}


class Floor:
    """Bare Paramiko execs on transports that are already open (no RECON around them)."""

    def __init__(self, f: Fleet):
        self.executor = Executor(HostKeyStore(f.known_hosts))
        self.hosts = [HostConfig(name=i.name, address=i.address, port=i.port, user=i.user,
                                 key_path=i.key_path, systemctl=i.systemctl,
                                 journalctl=i.journalctl) for i in f.infos]

    def exec(self, host: HostConfig, argv: list[str]) -> bytes:
        import shlex
        transport = self.executor.connection(host).transport(time.monotonic() + 10)
        chan: paramiko.Channel = transport.open_session()
        chan.exec_command(shlex.join(argv))
        data = b""
        while True:
            chunk = chan.recv(65536)
            if not chunk:
                break
            data += chunk
        chan.recv_exit_status()
        chan.close()
        return data


def interleaved(a: Callable[[], object], b: Callable[[], object], n: int,
                warmup: int = 3) -> tuple[list[float], list[float]]:
    """Alternate two measurements so drift on a shared 2-core machine (the target's
    systemctl alone varies by +-10 ms) hits both alike."""
    for _ in range(warmup):
        a(), b()
    ta, tb = [], []
    for _ in range(n):
        ta += times(a, 1, 0)
        tb += times(b, 1, 0)
    return ta, tb


def bench_single(f: Fleet, floor: Floor, n: int, results: dict) -> None:
    host, info = floor.hosts[0], f.infos[0]
    unit = info.units[0]
    show = show_argv(host, [unit])
    with serve(f, "single", status_cache_seconds=0) as srv:
        client = srv.client()
        slug = f"{info.name}-{unit.removesuffix('.service')}"
        recon, bare = interleaved(
            lambda: client.request("GET", f"/api/services/{slug}/status"),
            lambda: floor.exec(host, show), n)
        client.close()
    control = f.workdir / "cm.sock"
    import subprocess
    cm = times(lambda: subprocess.run(ssh_argv(info, f.known_hosts, show, control),
                                      capture_output=True, timeout=30), max(10, n // 4))
    stop_master(info, f.known_hosts, control)
    runbook = times(lambda: runbook_status(info, f.known_hosts, unit), max(10, n // 5), 1)
    r, b = stats(recon), stats(bare)
    results["single_status"] = {
        "recon_api": r, "floor_bare_paramiko": b, "ssh_controlmaster": stats(cm),
        "runbook_fresh_ssh": stats(runbook),
        "recon_added_ms": round(r["median_ms"] - b["median_ms"], 2),
        "recon_added_paired_median_ms": round(statistics.median(
            x - y for x, y in zip(recon, bare, strict=True)), 2),
    }


def bench_fleet(f: Fleet, floor: Floor, n: int, results: dict) -> None:
    pool = ThreadPoolExecutor(max_workers=8)
    batches = [(h, show_argv(h, list(i.units))) for h, i in zip(floor.hosts, f.infos,
                                                               strict=True)]
    one_batch = times(lambda: floor.exec(*batches[0]), n)
    parallel = times(lambda: list(pool.map(lambda b: floor.exec(*b), batches)), n)
    with serve(f, "fleet", status_cache_seconds=0) as srv:
        client = srv.client()
        status, body = client.request("GET", "/api/services")
        assert status == 200 and len(body["services"]) == sum(len(i.units) for i in f.infos)
        assert all(s["state"] == "active" for s in body["services"]), "fleet not all active"
        recon = times(lambda: client.request("GET", "/api/services"), n)
        client.close()
    everything = [(i, u) for i in f.infos for u in i.units]
    browser = ThreadPoolExecutor(max_workers=6)  # a browser's connections per origin
    runbook = times(lambda: list(browser.map(
        lambda iu: runbook_status(iu[0], f.known_hosts, iu[1]), everything)), 3, 0)
    r = stats(recon)
    results["fleet_status"] = {
        "services": len(everything), "hosts": len(f.infos), "recon_api": r,
        "floor_parallel_batches": stats(parallel), "one_host_batch": stats(one_batch),
        "runbook_request_per_service": stats(runbook),
        "recon_vs_one_batch": round(r["median_ms"] / stats(one_batch)["median_ms"], 2),
    }


def bench_throughput(f: Fleet, seconds: float, clients: int, results: dict) -> None:
    with serve(f, "throughput", status_cache_seconds=2) as srv:
        srv.client().request("GET", "/api/services")
        before = sum(len(t.command_log()) for t in f.targets)
        stop_at = time.monotonic() + seconds
        lat: list[float] = []
        errors = [0]
        lock = threading.Lock()

        def worker():
            c = srv.client()
            mine = []
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                status, _ = c.request("GET", "/api/services")
                mine.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    errors[0] += 1
            c.close()
            with lock:
                lat.extend(mine)

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        commands = sum(len(t.command_log()) for t in f.targets) - before
    results["throughput"] = {"clients": clients, "seconds": round(elapsed, 1),
                             "requests": len(lat), "rps": round(len(lat) / elapsed, 1),
                             "errors": errors[0], **stats(lat),
                             "ssh_commands_received": commands}


def bench_actions(f: Fleet, floor: Floor, n: int, results: dict) -> None:
    host, info = floor.hosts[1], f.infos[1]
    unit = info.units[1]
    slug = f"{info.name}-{unit.removesuffix('.service')}"
    bare = times(lambda: floor.exec(host, action_argv(host, "restart", unit)), n, 1)
    with serve(f, "actions", status_cache_seconds=0) as srv:
        c = srv.client()
        recon = times(lambda: c.request("POST", f"/api/services/{slug}/restart"), n, 1)
        logs = {}
        for lines in (100, 5000):
            logs[f"recon_logs_{lines}"] = stats(times(
                lambda lines=lines: c.request("GET", f"/api/services/{slug}/logs?lines={lines}"),
                n, 1))
            argv = [host.sudo, "-n", host.journalctl, "-u", unit, "-n", str(lines),
                    "--no-pager"]
            logs[f"bare_journalctl_{lines}"] = stats(times(lambda a=argv: floor.exec(host, a),
                                                           n, 1))
        c.close()
    results["actions"] = {"recon_restart_incl_fresh_status": stats(recon),
                          "bare_restart": stats(bare), **logs}


def table(results: dict) -> str:
    rows = []
    s = results["single_status"]
    rows.append(("1 status: RECON API (cache off)", s["recon_api"]))
    rows.append(("1 status: floor (bare Paramiko, open transport)", s["floor_bare_paramiko"]))
    rows.append(("1 status: ssh ControlMaster", s["ssh_controlmaster"]))
    rows.append(("1 status: runbook (fresh ssh + status text)", s["runbook_fresh_ssh"]))
    fl = results["fleet_status"]
    rows.append((f"fleet {fl['services']}: RECON GET /api/services", fl["recon_api"]))
    rows.append(("fleet: floor (parallel batch per host)", fl["floor_parallel_batches"]))
    rows.append(("fleet: one host's batch call", fl["one_host_batch"]))
    rows.append(("fleet: runbook (1 ssh per service, 6 at once)",
                 fl["runbook_request_per_service"]))
    a = results["actions"]
    for key, value in a.items():
        rows.append((f"action/logs: {key}", value))
    out = [f"{'measure':<52} {'median':>9} {'p95':>9} {'n':>5}", "-" * 78]
    out += [f"{name:<52} {v['median_ms']:>7.1f}ms {v['p95_ms']:>7.1f}ms {v['n']:>5}"
            for name, v in rows]
    t = results["throughput"]
    out.append("-" * 78)
    out.append(f"throughput: {t['clients']} clients x {t['seconds']} s: {t['rps']} req/s, "
               f"p99 {t['p99_ms']} ms, {t['errors']} errors, "
               f"{t['ssh_commands_received']} SSH commands reached the targets")
    recon_ms = s["recon_api"]["median_ms"]
    out.append(f"RECON added over the floor (1 status, median): {s['recon_added_ms']} ms "
               f"(paired: {s['recon_added_paired_median_ms']} ms); "
               f"runbook/RECON {s['runbook_fresh_ssh']['median_ms'] / recon_ms:.1f}x; "
               f"ControlMaster/RECON {s['ssh_controlmaster']['median_ms'] / recon_ms:.2f}x")
    fleet_ms = fl["recon_api"]["median_ms"]
    out.append(f"fleet: RECON / one host's batch = {fl['recon_vs_one_batch']}x; "
               f"RECON / floor = {fleet_ms / fl['floor_parallel_batches']['median_ms']:.2f}x; "
               f"runbook/RECON {fl['runbook_request_per_service']['median_ms'] / fleet_ms:.1f}x")
    t = results.get("terminals")
    if t:
        first = t["create_to_first_byte_ms"]["median_ms"]
        out.append(f"terminal: create -> first byte median {first}"
                   f" ms (prompt {t['create_to_prompt_ms']['median_ms']} ms); 10 MB cat via proxy "
                   f"{t['cat_10mb_seconds']['proxy']} s vs direct {t['cat_10mb_seconds']['direct']}"
                   f" s ({t['proxy_vs_direct']}x)")
    ui = results.get("ui_first_paint")
    if ui:
        p = ui["statuses_painted"]
        out.append(f"dashboard first paint with {ui['services']} statuses (Chromium, warm pool): "
                   f"median {p['median_ms']} ms, p95 {p['p95_ms']} ms")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="repetitions per latency measure")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium first paint")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the benchmark builds real SSH targets and needs root")
    started = time.monotonic()
    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                     "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                 "python": platform.python_version()}}
    with fleet(args.hosts, args.units) as f:
        floor = Floor(f)
        try:
            bench_single(f, floor, args.n, results)
            bench_fleet(f, floor, max(10, args.n // 3), results)
            bench_actions(f, floor, max(5, args.n // 10), results)
            bench_throughput(f, args.seconds, args.clients, results)
            bench_terminals(f, 20, results)
            if not args.no_browser:
                bench_ui_first_paint(f, 20, results)
        finally:
            floor.executor.close_all()
    results["total_seconds"] = round(time.monotonic() - started, 1)
    text = table(results)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{results['when'].replace(':', '')}.json"
    out.write_text(json.dumps(results, indent=1))
    (RESULTS / "latest.txt").write_text(text + "\n")
    print(f"\nwritten to {out} ({results['total_seconds']} s)")


if __name__ == "__main__":
    main()
