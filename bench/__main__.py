"""``python -m bench``: RECON on real systemd, side by side with the floor, the runbook's way
and the issues' targets; prints a table and writes JSON to bench/results/.

Boots 5 real hosts (systemd in nspawn) x 10 units plus one to hang, serves RECON exactly as
``make run`` does (``python -m recon.entry.serve``: gunicorn gthread, 2 workers, 64 threads) in a
subprocess, and measures every comparison interleaved, round by round (see bench.stats).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from .config_reload import bench_config_reload
from .events import bench_event_latency, bench_stale_reads
from .faultrows import bench_faults
from .fleet import fleet, serve
from .floor import Floor
from .host_page import bench_host_page
from .logins import bench_logins
from .postgres import bench_postgres
from .replay import bench_replay
from .replicas import bench_replicas
from .report import table
from .rest import bench_rest
from .scale import bench_scale
from .stats import load
from .streams import bench_stream_hold
from .synchronous import bench_action, bench_logs, bench_status
from .terminals import bench_terminals
from .terminals_mapped import bench_mapped_prompt
from .ui_first_paint import bench_ui_first_paint

RESULTS = Path(__file__).parent / "results"


SECTIONS = ("sync", "events", "faults", "terminals", "replay", "ui", "rest", "logins", "streams",
            "config", "postgres", "replicas", "scale")
#: Sections that take many minutes: run only when named in --only (``make bench-scale``).
ON_REQUEST = ("scale",)


def run(args, r: dict) -> None:
    want = set(args.only.split(",")) if args.only else set(SECTIONS) - set(ON_REQUEST)
    if args.no_browser:
        want.discard("ui")
        want.discard("replay")
    if want & set(SECTIONS) - set(ON_REQUEST) - {"replicas"}:
        run_fleet(args, want, r)
    if "replicas" in want:
        r["replicas"] = {}
        bench_replicas(r["replicas"], args.replica_hosts)
    if "scale" in want:
        r["scale"] = {}
        bench_scale(args, r["scale"])


def run_fleet(args, want: set[str], r: dict) -> None:
    with fleet(args.hosts) as f:
        with serve(f.workdir, "main", f.infos, f.known_hosts) as srv:
            if "sync" in want:
                run_sync(args, f, srv, r)
            # Each section that shares the served fleet, in order.
            shared = {"events": lambda: r.update(
                          events=bench_event_latency(f, srv, args.event_samples),
                          stale_reads=bench_stale_reads(f, srv)),
                      "faults": lambda: r.update(faults=bench_faults(
                          f, srv, args.n, args.seconds, args.clients)),
                      "terminals": lambda: r.update(
                          terminals=bench_terminals(f, srv, 10),
                          terminals_mapped=bench_mapped_prompt(f, srv, 10)),
                      "replay": lambda: r.update(replay=bench_replay(f, srv)),
                      "ui": lambda: r.update(ui_first_paint=bench_ui_first_paint(f, srv, 20),
                                             host_page=bench_host_page(f, srv)),
                      "config": lambda: r.update(config_reload=bench_config_reload(
                          f, srv, args.config_rounds))}
            for name, section in shared.items():
                if name in want:
                    section()
        if "rest" in want:
            r["rest"] = bench_rest(f, args.rest_seconds)
        if "logins" in want:
            r["logins"] = bench_logins(f)
        if "streams" in want:
            r["stream_hold"] = bench_stream_hold(f, args.stream_seconds)
        if "postgres" in want:
            r["postgres"] = bench_postgres(f, args.n)


def run_sync(args, f, srv, r: dict) -> None:
    floor = Floor(f.infos)
    try:
        r["status"] = bench_status(f, srv, floor, args.n)
        r["action"] = bench_action(f, srv, floor, max(10, args.n // 2))
        r["logs_5000"] = bench_logs(f, srv, floor, max(10, args.n // 2), 5000)
        r["logs_100"] = bench_logs(f, srv, floor, max(10, args.n // 2), 100)
    finally:
        floor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=60, help="rounds per interleaved comparison")
    parser.add_argument("--seconds", type=float, default=30, help="load test length")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--event-samples", type=int, default=24)
    parser.add_argument("--rest-seconds", type=float, default=60)
    parser.add_argument("--stream-seconds", type=float, default=20,
                        help="/healthz measured this long while one viewer holds streams")
    parser.add_argument("--config-rounds", type=int, default=6,
                        help="config changes per way (hand edit, API, CLI)")
    parser.add_argument("--replica-hosts", type=int, default=200,
                        help="host entries split between the two replicas (section replicas)")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium first paint")
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)} "
                        f"({','.join(ON_REQUEST)}: only when named here)")
    scale = parser.add_argument_group("scale (issue 23; python -m bench --only scale)")
    scale.add_argument("--scale-hosts", default="500,1000", help="rows: host entries")
    scale.add_argument("--scale-dead-fraction", type=float, default=0.1,
                       help="dead entries added per healthy one in the dead run (0: no run)")
    scale.add_argument("--scale-dead-mode", choices=("refuse", "close"), default="refuse",
                       help="refuse: the real sshd refuses the login; close: a listener "
                       "accepts and closes")
    scale.add_argument("--scale-dead-window", default="2,4",
                       help="minutes after start between which dead-host attempts are counted")
    scale.add_argument("--scale-observe-cap", type=float, default=240,
                       help="give up waiting for every unit observed after this many s")
    scale.add_argument("--scale-fleet-seconds", type=float, default=20)
    scale.add_argument("--scale-settle-seconds", type=float, default=60,
                       help="from every unit observed to the at-rest measurement")
    scale.add_argument("--scale-rest-seconds", type=float, default=60)
    scale.add_argument("--scale-ui-changes", type=int, default=6)
    scale.add_argument("--scale-label", default="", help="in the result's file name, "
                       "e.g. before / after")
    scale.add_argument("--scale-logs", help="copy the servers' logs into this folder")
    scale.add_argument("--recon-tree", help="serve RECON from this checkout (default: this one)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the benchmark boots real hosts (systemd-nspawn) and needs root")
    started = time.monotonic()
    r: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version(), "load_at_start": load()},
               "args": vars(args)}
    RESULTS.mkdir(exist_ok=True)
    stamp = r["when"].replace(":", "")
    label = "-".join(filter(None, ("scale", args.scale_label))) if args.only == "scale" else ""
    out = RESULTS / (f"{label}-{stamp}.json" if label else f"{stamp}.json")
    try:
        run(args, r)
    finally:  # a section that failed leaves the others' figures
        r["machine"]["load_at_end"] = load()
        r["total_seconds"] = round(time.monotonic() - started, 1)
        out.write_text(json.dumps(r, indent=1) + "\n")
    text = table(r)
    print(text)
    (out.with_suffix(".txt") if label else RESULTS / "latest.txt").write_text(text + "\n")
    print(f"\nwritten to {out} ({r['total_seconds']} s)")


if __name__ == "__main__":
    main()
