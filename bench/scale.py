"""``python -m bench --only scale``: RECON at 500 and 1,000 hosts x 10 units (issue 23).

Host side: ONE real systemd container stands in for every host (:mod:`bench.scalehost`);
host entries ``127.77.X.Y:PORT`` all reach its sshd. RECON is served as ``make run`` serves it
(``python -m recon.entry.serve``: gunicorn, 2 gthread workers) from ``--recon-tree`` (default:
this checkout) -- the tree is first on the server's path and its cwd, so the bench measures
whatever tree it is pointed at. Per row (N hosts):

1. clean run (N healthy hosts): time until every unit is observed (from the server's start);
   ``GET /api/services`` p50/p95 and size, one client in a row, while a second client polls
   ``/healthz`` every 50 ms; the dashboard in Chromium (first paint of statuses, and a change
   on the host -> the open page); then at rest (60 s after all observed) for 60 s: RECON's
   processes (gunicorn master + workers, from /proc) CPU, RSS, threads, descriptors, apart
   from the container's process tree; SSH logins and commands per host per minute counted on
   the host side (sshd's own VERBOSE log: "Connection from ... on ADDR" and "Starting
   session: command" lines, matched by the client's source port); then the rows' freshness
   (age of ``observed_at``). The server's log is counted for thread deaths and lock errors.
2. dead run: the same N healthy hosts plus ``dead_fraction`` x N dead entries (``refuse``: a
   login the real sshd refuses; ``close``: our listener accepts and closes). Between minutes
   ``dead_window`` (default 2 and 4, the issue says after 5) it counts connection attempts
   per dead address per minute and samples the healthy rows' freshness.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from recon.demo.nspawn import free_port
from recon.demo.recon_config import demo_config_toml

from .fleet import ROOT, Server
from .scalehost import (
    CountingListener,
    HostProbe,
    ScaleHost,
    known_hosts,
    parse_sshd,
    per_address,
    refused_key,
    scale_host,
    targets,
)
from .stats import load, pct, stats

CLK_TCK = os.sysconf("SC_CLK_TCK")
# Run in the served tree's interpreter path: the database, an admin token, a viewer login.
SETUP = r"""
import sys
from recon import create_app
from recon.auth.accounts import create_token, create_user
from recon.web.context import runtime
app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": sys.argv[1],
                  "SQLALCHEMY_DATABASE_URI": sys.argv[2]})
with app.app_context():
    _, token = create_token("bench", "admin")
    create_user("bench-ui", "bench-ui-password", "viewer")
runtime(app).executor.close_all()
print("TOKEN", token)
"""
# The server's log has no level names ("DATE TIME LOGGER message"; logging.exception's
# traceback follows on lines of its own). Paramiko logs every failed connection attempt with a
# traceback of its transport thread: counted apart, those are not RECON threads dying.
LOG_PATTERNS = {
    "traceback_recon": lambda line: "Traceback" in line and "paramiko.transport" not in line,
    "traceback_paramiko": lambda line: "Traceback" in line and "paramiko.transport" in line,
    "supervisor_of": lambda line: "supervisor of" in line,
    "recon_failed": lambda line: " recon." in line[:40] and "failed" in line,
    "database_is_locked": lambda line: "database is locked" in line,
    "could_not_publish": lambda line: "could not publish" in line,
    "lease_lost": lambda line: "lost the lease" in line,
    "fd_out_of_range": lambda line: "filedescriptor out of range" in line,
}


@dataclass
class Run:
    srv: Server
    started: float  # epoch seconds, just before the server process was started
    log: Path

    def get(self, path: str, timeout: float = 60) -> tuple[int, bytes, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=timeout)
        try:
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Bearer {self.srv.token}"})
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, body, (time.perf_counter() - t0) * 1000
        finally:
            conn.close()

    def services(self, timeout: float = 60) -> dict | None:
        try:
            status, body, _ = self.get("/api/services", timeout)
        except OSError:
            return None
        return json.loads(body) if status == 200 else None


def tree_identity(tree: Path) -> dict:
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(tree), *a], capture_output=True,
                              text=True).stdout.strip()
    # recon/'s own tree object names the product code whatever bench/ commits sit on top.
    return {"path": str(tree), "commit": git("rev-parse", "HEAD"),
            "recon_tree": git("rev-parse", "HEAD:recon"),
            "dirty_files": len(git("status", "--porcelain", "--", "recon").splitlines())}


@contextmanager
def served(workdir: Path, name: str, entries: list, kh: Path, tree: Path,
           sh: ScaleHost | None = None) -> Iterator[Run]:
    """RECON from ``tree`` as ``make run`` serves it; stopped (its process group) afterwards."""
    sub = workdir / name
    sub.mkdir()
    cfg = sub / "recon.toml"
    cfg.write_text(demo_config_toml(entries, known_hosts=kh))
    uri = f"sqlite:///{sub / 'recon.db'}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RECON_SECRET_KEY": "bench",
           "RECON_CONFIG": str(cfg), "RECON_DATABASE_URI": uri,
           "PYTHONPATH": os.pathsep.join(filter(None, (str(tree), os.environ.get("PYTHONPATH"))))}
    out = subprocess.run([sys.executable, "-c", SETUP, str(cfg), uri], cwd=tree, env=env,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"setting up RECON from {tree} failed: {out.stderr[-2000:]}")
    token = next(x.split()[1] for x in out.stdout.splitlines() if x.startswith("TOKEN "))
    port = free_port()
    log_path = sub / "serve.log"
    started = time.time()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "recon.entry.serve", "--bind",
                                 f"127.0.0.1:{port}"], cwd=tree, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield Run(Server(proc, port, token, cfg, uri), started, log_path)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if sh is not None:
            sh.end_sessions()


def _epoch(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


def observe(run: Run, healthy_hosts: set[str], cap: float) -> dict:
    """Poll the snapshot until every unit of the healthy hosts was observed (or ``cap``)."""
    timeline, all_at, total = [], None, None
    while time.time() - run.started < cap:
        body = run.services(30)
        t = round(time.time() - run.started, 1)
        if body is None:
            time.sleep(1)
            continue
        mine = [s for s in body["services"] if s["host"] in healthy_hosts]
        total = len(mine)
        seen = sum(1 for s in mine if s.get("observed_at") and not s.get("pending"))
        up = sum(1 for h in body["hosts"] if h["name"] in healthy_hosts and h["state"] == "up")
        timeline.append((t, seen, up))
        if seen == total:
            all_at = t
            break
        time.sleep(1)
    last = timeline[-1] if timeline else (None, 0, 0)

    def first(frac: float) -> float | None:
        return next((t for t, s, _ in timeline if total and s >= frac * total), None)
    return {"units": total, "all_observed_s": all_at, "half_observed_s": first(0.5),
            "p90_observed_s": first(0.9), "observed_at_60s": max(
                (s for t, s, _ in timeline if t <= 60), default=0),
            "observed_at_end": last[1], "hosts_up_at_end": last[2], "cap_s": cap,
            "timeline": timeline[::5]}


def fleet_calls(run: Run, seconds: float, max_calls: int = 300) -> dict:
    """``GET /api/services`` back to back from one client while another polls /healthz."""
    stop = threading.Event()
    hz: list[float] = []
    hz_failed = Counter()

    def probe() -> None:
        while not stop.is_set():
            try:
                status, _, ms = run.get("/healthz", 10)
                hz.append(ms)
                if status != 200:
                    hz_failed[str(status)] += 1
            except OSError as exc:
                hz_failed[type(exc).__name__] += 1
            stop.wait(0.05)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    calls, sizes, server_ms, failed = [], [], [], Counter()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and len(calls) < max_calls:
            try:
                status, body, ms = run.get("/api/services", 60)
            except OSError as exc:
                failed[type(exc).__name__] += 1
                continue
            if status != 200:
                failed[str(status)] += 1
                continue
            calls.append(ms)
            sizes.append(len(body))
            server_ms.append(json.loads(body).get("duration_ms", 0))
    finally:
        stop.set()
        thread.join(15)
    return {"fleet": stats(calls), "fleet_server_side": stats(server_ms),
            "bytes": max(sizes, default=None), "failed": dict(failed),
            "healthz": stats(hz), "healthz_failed": dict(hz_failed), "load": load()}


def _proc(pid: int, children: bool) -> dict | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, IndexError):
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    if children:  # cutime, cstime: reaped children (a container's short-lived commands)
        ticks += int(fields[13]) + int(fields[14])
    kv = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"ticks": ticks, "rss_kb": int(kv.get("VmRSS", "0 kB").split()[0]),
            "threads": int(kv["Threads"]), "fds": fds}


def sample(pids: list[int], children: bool = False) -> dict[int, dict]:
    return {p: s for p in pids if (s := _proc(p, children)) is not None}


def cpu_percent(a: dict[int, dict], b: dict[int, dict], seconds: float) -> float:
    """% of one core between two samples (a process new in ``b`` counts from zero)."""
    ticks = sum(s["ticks"] - a.get(p, {"ticks": 0})["ticks"] for p, s in b.items())
    return round(100 * ticks / CLK_TCK / seconds, 1)


def at_rest(run: Run, sh: ScaleHost, healthy: list, seconds: float) -> dict:
    """RECON's processes and the container's over ``seconds``, and the SSH traffic."""
    t0 = time.time()
    recon0, cont0 = sample(run.srv.pids()), sample(sh.container_pids(), True)
    snaps = []
    while time.time() - t0 < seconds:
        time.sleep(min(10, max(0.1, seconds - (time.time() - t0))))
        snaps.append(sample(run.srv.pids()))
    t1 = time.time()
    recon1, cont1 = sample(run.srv.pids()), sample(sh.container_pids(), True)
    n, minutes = len(healthy), (t1 - t0) / 60

    def mean(key: str) -> float:
        return sum(sum(s[key] for s in snap.values()) for snap in snaps) / len(snaps)
    conns, sessions = parse_sshd(sh.sshd_log(run.started - 5))
    logins, commands = per_address(conns, sessions, t0, t1)
    addrs = [t.address for t in healthy]
    per_host = sorted(commands.get(a, 0) / minutes for a in addrs)
    rss_mb, threads, fds = mean("rss_kb") / 1024, mean("threads"), mean("fds")
    cpu = cpu_percent(recon0, recon1, t1 - t0)
    return {
        "seconds": round(t1 - t0, 1), "processes": len(recon1),
        "cpu_percent_of_one_core": cpu, "rss_mb": round(rss_mb, 1),
        "threads": round(threads), "fds": round(fds),
        "per_host": {"cpu_percent": round(cpu / n, 4), "rss_kb": round(rss_mb * 1024 / n, 1),
                     "threads": round(threads / n, 2), "fds": round(fds / n, 2)},
        "container": {"processes": len(cont1),
                      "cpu_percent_of_one_core": cpu_percent(cont0, cont1, t1 - t0),
                      "rss_mb": round(sum(s["rss_kb"] for s in cont1.values()) / 1024, 1)},
        "ssh_commands_per_host_per_minute": {
            "mean": round(sum(per_host) / n, 2), "median": round(pct(per_host, 0.5), 2),
            "max": round(per_host[-1], 2),
            "unattributed": round(commands.get("?", 0) / minutes, 1)},
        "ssh_logins_per_host_per_minute": round(sum(logins.get(a, 0) for a in addrs)
                                                / n / minutes, 3),
        "load": load(),
    }


def freshness(run: Run, healthy_hosts: set[str], seconds: float, every: float = 5) -> dict:
    """Age of the healthy rows' ``observed_at``, sampled every ``every`` s."""
    ages: list[float] = []
    unobserved = 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        body = run.services(60)
        now = time.time()
        for s in body["services"] if body else ():
            if s["host"] in healthy_hosts:
                at = _epoch(s.get("observed_at"))
                if at is None:
                    unobserved += 1
                else:
                    ages.append(now - at)
        time.sleep(every)
    ordered = sorted(ages)
    return {"never_observed_share": round(unobserved / max(1, unobserved + len(ages)), 3),
            "age_s": {"median": round(pct(ordered, 0.5), 1) if ordered else None,
                      "p95": round(pct(ordered, 0.95), 1) if ordered else None,
                      "max": round(ordered[-1], 1) if ordered else None, "n": len(ordered)},
            "unobserved_samples": unobserved}


def log_counts(path: Path) -> dict:
    """The server log's thread deaths and lock errors (counts, and a first example of each)."""
    text = path.read_text(errors="replace").splitlines()
    out: dict = {"lines": len(text), "examples": {}}
    for key, match in LOG_PATTERNS.items():
        hits = [line for line in text if match(line)]
        out[key] = len(hits)
        if hits:
            out["examples"][key] = hits[0][:300]
    return out


def keep_log(args, log: Path) -> None:
    if args.scale_logs:
        Path(args.scale_logs).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, Path(args.scale_logs) / f"{log.parent.name}.log")


def clean_run(sh: ScaleHost, workdir: Path, n: int, args, tree: Path) -> dict:
    from .scaleui import ui_at_scale

    healthy = targets(sh, n)
    names = {t.name for t in healthy}
    kh = known_hosts(workdir / f"known_hosts-{n}", healthy, sh.key_line)
    out: dict = {"hosts": n, "units_per_host": len(healthy[0].units)}
    with served(workdir, f"clean{n}", healthy, kh, tree, sh) as run, HostProbe(sh) as probe:
        try:
            out["observe"] = obs = observe(run, names, args.scale_observe_cap)
            print(f"scale {n}: all observed at {obs['all_observed_s']} s", flush=True)
            ready = time.time()
            out["fleet_call"] = fleet_calls(run, args.scale_fleet_seconds)
            if not args.no_browser:
                try:
                    out["ui"] = ui_at_scale(run, sh, healthy, args.scale_ui_changes)
                except Exception as exc:  # the browser part must not lose the rest
                    out["ui"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            time.sleep(max(min(15.0, args.scale_settle_seconds),
                           ready + args.scale_settle_seconds - time.time()))
            out["rest"] = at_rest(run, sh, healthy, args.scale_rest_seconds)
            out["freshness"] = freshness(run, names, 30)
        finally:
            out["log"] = log_counts(run.log)
            out["host_probe"] = probe.summary()
            keep_log(args, run.log)
    return out


def dead_run(sh: ScaleHost, workdir: Path, n: int, args, tree: Path) -> dict:
    healthy = targets(sh, n)
    names = {t.name for t in healthy}
    n_dead = max(1, round(args.scale_dead_fraction * n))
    listener = CountingListener() if args.scale_dead_mode == "close" else None
    try:
        if listener is not None:
            dead = targets(sh, n_dead, prefix="dead", block=78, port=listener.port)
        else:
            dead = targets(sh, n_dead, prefix="dead", block=78, key=refused_key(workdir))
        kh = known_hosts(workdir / f"known_hosts-{n}-dead", healthy + dead, sh.key_line)
        w0, w1 = (60 * float(x) for x in args.scale_dead_window.split(","))
        out: dict = {"hosts": n, "dead": n_dead, "mode": args.scale_dead_mode,
                     "window_s": [w0, w1]}
        with served(workdir, f"dead{n}", healthy + dead, kh, tree, sh) as run, \
                HostProbe(sh) as probe:
            try:  # the freshness is sampled in the window, observed or not by then
                out["observe"] = observe(run, names, min(args.scale_observe_cap, w0))
                time.sleep(max(0.0, run.started + w0 - time.time()))
                out["freshness"] = freshness(run, names, run.started + w1 - time.time(), 10)
                t_end = time.time()
                if listener is not None:
                    attempts = [(t, a) for t, a in listener.accepts]
                else:
                    conns, _ = parse_sshd(sh.sshd_log(run.started - 5, t_end))
                    attempts = [(t, a) for t, _, a in conns]
                dead_addrs = {t.address for t in dead}
                attempts = [(t - run.started, a) for t, a in attempts if a in dead_addrs]
                window = Counter(a for t, a in attempts if w0 <= t < w1)
                per_min = sorted(window.get(a, 0) / ((w1 - w0) / 60) for a in dead_addrs)
                by_minute = Counter(int(t // 60) for t, _ in attempts)
                out["attempts"] = {
                    "per_dead_host_per_minute": {"median": round(pct(per_min, 0.5), 2),
                                                 "max": round(per_min[-1], 2),
                                                 "mean": round(sum(per_min) / n_dead, 2)},
                    "total_since_start": len(attempts),
                    "per_minute_all_dead": [by_minute.get(m, 0)
                                            for m in range(int(t_end - run.started) // 60 + 1)]}
            finally:
                out["log"] = log_counts(run.log)
                out["host_probe"] = probe.summary()
                keep_log(args, run.log)
        return out
    finally:
        if listener is not None:
            listener.close()


def bench_scale(args, results: dict) -> None:
    """Fill ``results`` row by row (a failed row keeps the ones before it)."""
    tree = Path(args.recon_tree or ROOT).resolve()
    results.update(tree=tree_identity(tree), rows={})
    workdir = Path(tempfile.mkdtemp(prefix="recon-scale-"))
    try:
        _rows(args, results, tree, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _rows(args, results: dict, tree: Path, workdir: Path) -> None:
    with scale_host() as sh:
        results["host_side"] = {"container": "one systemd-nspawn container, sshd on "
                                f"0.0.0.0:{sh.port}", "simulator": False}
        for n in (int(x) for x in args.scale_hosts.split(",")):
            row = results["rows"][str(n)] = {}
            try:
                row["clean"] = clean_run(sh, workdir, n, args, tree)
                if args.scale_dead_fraction > 0:
                    row["dead"] = dead_run(sh, workdir, n, args, tree)
            except Exception as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"[:1000]
                print(f"scale {n}: {row['error']}", flush=True)
