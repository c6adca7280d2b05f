"""A config change applied live (issue 22): a service added by hand-editing recon.toml, by
the API the browser's form calls, and by ``recon services add``, interleaved round by round,
while 20 clients read the fleet and a service's status in a loop.

Per change: the time until *both* gunicorn workers run the new revision (asked on new
connections: ``GET /api/config`` says which process answered and its revision), and until
the newly managed unit's state (not "unknown") is on the fleet call, i.e. on the page. The
load's requests that failed (anything but 200) are counted over the whole run.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recon.demo import procs

from .fleet import ROOT, Fleet, Server
from .stats import load, stats

WAYS = ("hand", "api", "cli")


def _get(port: int, token: str, path: str, method: str = "GET",
         body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else {}
    finally:
        conn.close()


def _is_worker(pid: int) -> bool:
    try:
        return b"recon.entry.serve" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _change(way: str, srv: Server, table: dict, remove: bool = False) -> float:
    """Make the change; returns the time (monotonic) the file was written."""
    if way == "hand":
        text = srv.config.read_text()
        block = (f'\n[[services]]\nslug = "{table["slug"]}"\nname = "{table["slug"]}"\n'
                 f'host = "{table["host"]}"\nunit = "{table["unit"]}"\n')
        srv.config.write_text(text.replace(block, "") if remove else text + block)
        return time.monotonic()
    if way == "api":
        path = (f"/api/config/services/{table['slug']}" if remove else "/api/config/services")
        code, body = _get(srv.port, srv.token, path, "DELETE" if remove else "POST",
                          None if remove else table)
        assert code in (200, 201), body
        return time.monotonic()
    env = {**os.environ, "RECON_CONFIG": str(srv.config), "RECON_DATABASE_URI": srv.database,
           "RECON_SECRET_KEY": "bench"}
    argv = [sys.executable, "-m", "flask", "--app", "wsgi", "recon", "services"]
    argv += (["remove", table["slug"]] if remove else
             ["add", "--host", table["host"], "--unit", table["unit"], "--slug", table["slug"]])
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.monotonic()


def _wait_applied(srv: Server, workers: set[int], revision_not: str,
                  timeout: float = 30) -> tuple[float, str]:
    """Until every worker answered with a revision other than ``revision_not``."""
    seen: dict[int, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, body = _get(srv.port, srv.token, "/api/config")
        if code == 200:
            seen[body["pid"]] = body["revision"]
            if all(seen.get(w, revision_not) != revision_not for w in workers):
                return time.monotonic(), body["revision"]
        time.sleep(0.02)
    raise TimeoutError(f"not every worker applied the change: {seen}")


def _wait_state(srv: Server, slug: str, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, body = _get(srv.port, srv.token, "/api/services")
        svc = next((s for s in body.get("services", ()) if s["slug"] == slug), None)
        if svc is not None and svc.get("state") not in (None, "unknown") \
                and not svc.get("pending"):
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"{slug}: no state on the fleet call")


def bench_config_reload(f: Fleet, srv: Server, rounds: int = 6, clients: int = 20) -> dict:
    host = f.infos[0].name
    workers = {p for p in procs.descendants(srv.proc.pid) if _is_worker(p)}
    plan = Path(tempfile.mkdtemp()) / "plan.json"
    seconds = rounds * len(WAYS) * 8 + 20
    slug0 = next(iter(json.loads(json.dumps(_get(srv.port, srv.token, "/api/services")[1]))
                      ["services"]))["slug"]
    plan.write_text(json.dumps({"port": srv.port, "token": srv.token, "clients": clients,
                                "seconds": seconds, "requests": [
                                    ["fleet", "GET", "/api/services?view=compact"],
                                    ["status", "GET", f"/api/services/{slug0}/status"]]}))
    gen = subprocess.Popen([sys.executable, "-m", "bench.loadgen", str(plan)], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True)
    time.sleep(2)
    applied: dict[str, list[float]] = {w: [] for w in WAYS}
    on_page: dict[str, list[float]] = {w: [] for w in WAYS}
    removed: list[float] = []
    loads = [load()]
    try:
        for r in range(rounds):
            order = list(WAYS)
            random.shuffle(order)
            for way in order:
                table = {"slug": f"cfg-{way}-{r}", "host": host,
                         "unit": f"bench-{r % 5}.service"}
                before = _get(srv.port, srv.token, "/api/config")[1]["revision"]
                written = _change(way, srv, table)
                done, revision = _wait_applied(srv, workers, before)
                applied[way].append((done - written) * 1000)
                on_page[way].append((_wait_state(srv, table["slug"]) - written) * 1000)
                written = _change(way, srv, table, remove=True)
                removed.append((_wait_applied(srv, workers, revision)[0] - written) * 1000)
                time.sleep(1)
            loads.append(load())
    except Exception:
        import shutil
        shutil.copy(srv.config.parent / "serve.log", "/tmp/bench-config-serve.log")
        raise
    finally:
        out, _ = gen.communicate(timeout=seconds + 60)
    traffic = json.loads(out)
    failed = {label: sum(n for code, n in v["statuses"].items() if code != "200")
              for label, v in traffic["by_label"].items()}
    return {"applied_by_every_worker": {w: stats(v) for w, v in applied.items()},
            "state_on_page": {w: stats(v) for w, v in on_page.items()},
            "removal_applied": stats(removed), "clients": clients,
            "load_requests": traffic["requests"], "load_failed": failed,
            "load_latency": {k: {x: v[x] for x in ("median_ms", "p95_ms", "p99_ms")}
                             for k, v in traffic["by_label"].items()},
            "workers": len(workers), "machine_load": loads}
