"""Fleet reads with and without bad hosts, load with bad hosts, recovery of a stalled host.

The faulty config is the healthy fleet plus three bad hosts: a tarpit (accepts TCP, never
says anything), a banner-stall (sends an SSH banner, then silence) and ``hung``, a real host
RECON is connected to whose sshd processes are then all SIGSTOPped (its open sessions hang,
new connections get no banner)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from .faults import Tarpit, hang, resume
from .fleet import ROOT, Fleet, Server, fake_target, serve
from .stats import interleave, load, paired, stats

BAD = ("hung", "tarpit", "stall")


def faulty_server(f: Fleet, tarpit: Tarpit, stall: Tarpit):
    targets = [*f.infos, f.hung.info, fake_target(f.infos[0], "tarpit", tarpit.port),
               fake_target(f.infos[0], "stall", stall.port)]
    return serve(f.workdir, "faulty", targets, f.known_hosts)


def wait_down(srv: Server, names: tuple[str, ...], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    c = srv.client()
    while time.monotonic() < deadline:
        _, body = c.request("GET", "/api/services")
        hosts = {h["name"]: h for h in body["hosts"]}
        if all(hosts[n]["state"] == "down" for n in names):
            c.close()
            return hosts
        time.sleep(0.2)
    raise TimeoutError(f"bad hosts not marked down: {json.dumps(body['hosts'])[:800]}")


def bench_fleet_reads(main: Server, faulty: Server, n: int) -> dict:
    a, b = main.client(), faulty.client()
    before = load()
    t = interleave({"healthy_fleet": lambda: a.request("GET", "/api/services"),
                    "with_bad_hosts": lambda: b.request("GET", "/api/services")}, n)
    _, body = b.request("GET", "/api/services")
    marked = {h["name"]: {"state": h["state"], "error": h.get("error")}
              for h in body["hosts"] if h["name"] in BAD}
    a.close(), b.close()
    return {"services_healthy": 50, "services_faulty": len(body["services"]),
            "load": f"{before} -> {load()}", **{k: stats(v) for k, v in t.items()},
            "paired": paired(t["with_bad_hosts"], t["healthy_fleet"]), "bad_hosts": marked}


def load_plan(f: Fleet, srv: Server, seconds: float, clients: int) -> dict:
    reqs = []
    for i, info in enumerate(f.infos):
        reqs += [("healthy_status", "GET", f"/api/services/{info.name}-demo-worker/status"),
                 ("healthz", "GET", "/healthz"),
                 ("healthy_status", "GET", f"/api/services/{info.name}-bench-{i}/status")]
    reqs += [("fleet", "GET", "/api/services"),
             ("healthy_fresh", "GET", f"/api/services/{f.infos[0].name}-demo-cron/status?fresh=1"),
             *[("bad_fresh", "GET", f"/api/services/{b}-demo-cron/status?fresh=1") for b in BAD],
             *[("bad_action", "POST", f"/api/services/{b}-demo-worker/restart") for b in BAD]]
    return {"port": srv.port, "token": srv.token, "seconds": seconds, "clients": clients,
            "requests": reqs}


def bench_load(f: Fleet, srv: Server, seconds: float, clients: int) -> dict:
    plan = f.workdir / "plan.json"
    plan.write_text(json.dumps(load_plan(f, srv, seconds, clients)))
    before = load()
    out = subprocess.run([sys.executable, "-m", "bench.loadgen", str(plan)], cwd=ROOT,
                         capture_output=True, text=True, timeout=seconds + 120, check=True)
    result = json.loads(out.stdout)
    result["load"] = f"{before} -> {load()}"
    bad_5xx = {label: sum(v for k, v in row["statuses"].items() if k.startswith("5") or k == "0")
               for label, row in result["by_label"].items() if not label.startswith("bad_")}
    result["unexpected_5xx_or_errors"] = bad_5xx
    return result


def bench_recovery(f: Fleet, srv: Server) -> dict:
    """SIGCONT the hung host's sshd; time until its status is served from the snapshot again
    (state active, host up), and until a fresh read and an action succeed."""
    c = srv.client(10)
    slug = "hung-demo-worker"
    resume(f.hung)
    t0 = time.monotonic()
    served = fresh = None
    while time.monotonic() - t0 < 60 and (served is None or fresh is None):
        _, body = c.request("GET", f"/api/services/{slug}/status")
        if served is None and body.get("state") == "active" and not body.get("error"):
            served = time.monotonic() - t0
        if served is not None and fresh is None:
            status, _ = c.request("GET", f"/api/services/{slug}/status?fresh=1")
            if status == 200:
                fresh = time.monotonic() - t0
        time.sleep(0.1)
    status, body = c.request("POST", f"/api/services/{slug}/restart")
    c.close()
    return {"snapshot_served_again_s": round(served, 2) if served else None,
            "fresh_read_ok_s": round(fresh, 2) if fresh else None,
            "action_after_recovery": status, "action_state": body.get("status", {}).get("state")}


def bench_faults(f: Fleet, main: Server, n: int, seconds: float, clients: int) -> dict:
    tarpit, stall = Tarpit(), Tarpit(banner=True)
    try:
        with faulty_server(f, tarpit, stall) as srv:
            stopped = hang(f.hung)
            t0 = time.monotonic()
            hosts = wait_down(srv, BAD)
            out = {"hung_sshd_processes_stopped": stopped,
                   "hung_marked_down_s": round(time.monotonic() - t0, 1),
                   "bad_hosts_at_start": {k: hosts[k].get("error") for k in BAD}}
            out["fleet"] = bench_fleet_reads(main, srv, n)
            out["load"] = bench_load(f, srv, seconds, clients)
            out["recovery"] = bench_recovery(f, srv)
            return out
    finally:
        resume(f.hung)
        tarpit.close()
        stall.close()
