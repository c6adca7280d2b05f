"""Cost at rest with 50 hosts configured: the 5 real hosts, each configured under 10 names
with its own copy of the key (so RECON holds 50 SSH connections, 50 supervisors and 50
``dbus-monitor`` watchers, 500 services). Nothing changes on the hosts during the window."""

from __future__ import annotations

import os
import time
from collections import Counter

from .fleet import Fleet, Server, renamed_copies, serve
from .stats import load


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def memory_mb(pids: list[int], field: str) -> float:
    kb = 0
    for pid in pids:
        path = f"/proc/{pid}/smaps_rollup" if field == "Pss" else f"/proc/{pid}/status"
        try:
            for line in open(path):
                if line.startswith(field + ":"):
                    kb += int(line.split()[1])
        except OSError:
            continue
    return round(kb / 1024, 1)


def kind(command: str) -> str:
    for word in ("dbus-monitor", "systemctl show", "journalctl"):
        if word in command:
            return word
    return command[:60]


def window(f: Fleet, srv: Server, seconds: float) -> dict:
    time.sleep(5)  # watchers started, first reads done
    logs = {h.name: len(h.command_log()) for h in f.hosts}
    pids = srv.pids()
    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(pids) - cpu0
    new = [c for h in f.hosts for c in h.command_log()[logs[h.name]:]]
    return {"window_s": round(elapsed, 1), "commands": len(new),
            "kinds": dict(Counter(kind(c) for c in new)), "cpu_s": round(cpu, 2),
            "cpu_percent_of_one_core": round(100 * cpu / elapsed, 2),
            "rss_mb": memory_mb(pids, "VmRSS"), "pss_mb": memory_mb(pids, "Pss"),
            "processes": len(pids)}


def bench_rest(f: Fleet, seconds: float, copies: int = 10) -> dict:
    keydir = f.workdir / "keys"
    keydir.mkdir()
    targets = [t for info in f.infos for t in renamed_copies(info, copies, keydir)]
    before = load()
    with serve(f.workdir, "rest50", targets, f.known_hosts) as srv:
        w = window(f, srv, seconds)
    per_host_minute = w["commands"] / len(targets) / (w["window_s"] / 60)
    return {"hosts_configured": len(targets), "services": len(targets) * len(f.infos[0].units),
            "load": f"{before} -> {load()}", **w,
            "commands_per_host_per_minute": round(per_host_minute, 2)}
