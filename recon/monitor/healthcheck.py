"""Health checks run on the host, over the monitor's SSH connection, one command per round.

Each host with checks gets a :class:`HealthRunner` beside its supervisor. When checks are due
it sends *one* command that runs all of them -- ``python3 -I -c SCRIPT SPEC``: the fixed
script below with the due checks as a JSON argument (values from the validated config only;
joined with ``shlex`` like every command) -- and reads back one JSON line per check. The
checks run in parallel on the host, so a round takes about its slowest check.

Why python3: an HTTP(S) check needs a client a real host may lack (curl is not in a minimal
Debian); python3 is in Debian's standard install (and on the demo hosts), its ``urllib``
speaks https and its ``socket`` does the TCP connect, so one small fixed script covers every
kind and the host needs no package and no sudo rule: checks run as the login user.
``hosts.NAME.python`` names another interpreter; a host without one shows each check
``unknown`` with the reason, and ``recon check`` says how to fix it.

Scheduling: a check runs every ``interval``; a round also takes every check due within half
the host's shortest interval, so a host costs at most about one command per shortest
interval. A check of a unit that is not up is skipped (its health is ``unknown`` then:
:mod:`recon.monitor.healthstate`). When its unit (re)starts, its check runs at once and, while
it fails, every 2 s up to ``fail_after`` times: a rolling step waiting for the check learns
the verdict in seconds, not an interval later.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from recon.config import HostConfig, ServiceConfig
from recon.ssh import Executor, RemoteError

log = logging.getLogger("recon.monitor")
FAST_RETRY_SECONDS = 2.0
OUTPUT_CAP = 64 * 1024

# The program the host runs (python3 -I -c SCRIPT SPEC). SPEC: a JSON list of
# {id, kind, timeout, url, ranges, body, verify, address, command}. Output: one JSON line per
# check, {id, ok, status, latency_ms, message}. Redirects are not followed (a 3xx is a status
# like any other) and proxies from the environment are not used: the check is of the host.
SCRIPT = r"""
import json, socket, ssl, subprocess, sys, threading, time, urllib.error, urllib.request
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
def http(c):
    ctx = ssl.create_default_context()
    if not c["verify"]:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    op = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                     urllib.request.HTTPSHandler(context=ctx), Stay)
    req = urllib.request.Request(c["url"], headers={"User-Agent": "recon-health-check"})
    try:
        r = op.open(req, timeout=c["timeout"])
    except urllib.error.HTTPError as e:
        r = e
    code = r.code
    body = r.read(65536)
    r.close()
    ok = any(lo <= code <= hi for lo, hi in c["ranges"])
    msg = "HTTP %d" % code
    if ok and c["body"] and c["body"].encode() not in body:
        ok, msg = False, msg + ", body lacks %r" % c["body"]
    return ok, code, msg
def tcp(c):
    host, port = c["address"].rsplit(":", 1)
    socket.create_connection((host.strip("[]"), int(port)), timeout=c["timeout"]).close()
    return True, None, "connected to " + c["address"]
def command(c):
    p = subprocess.run(c["command"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=c["timeout"])
    tail = p.stdout.decode("utf-8", "replace").strip().splitlines()[-1:]
    return p.returncode == 0, p.returncode, ("exit %d" % p.returncode) + (
        ": " + tail[0][:200] if tail else "")
out, lock = [], threading.Lock()
def run(c):
    t = time.monotonic()
    try:
        ok, status, msg = {"http": http, "tcp": tcp, "command": command}[c["kind"]](c)
    except subprocess.TimeoutExpired:
        ok, status, msg = False, None, "timed out after %gs" % c["timeout"]
    except FileNotFoundError as e:
        ok, status, msg = None, None, "cannot run: %s" % e
    except PermissionError as e:
        ok, status, msg = None, None, "cannot run: %s" % e
    except Exception as e:
        reason = getattr(e, "reason", None) or e
        ok, status, msg = False, None, "%s: %s" % (type(e).__name__, reason)
    line = json.dumps({"id": c["id"], "ok": ok, "status": status, "message": msg,
                       "latency_ms": round((time.monotonic() - t) * 1000, 1)})
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
checks = json.loads(sys.argv[1])
threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in checks]
for th in threads:
    th.start()
for th, c in zip(threads, checks):
    th.join(c["timeout"] + 1)
"""


def check_spec(service: ServiceConfig) -> dict[str, Any]:
    """What the script needs of one service's check (values from the config only)."""
    check = service.health
    assert check is not None
    return {"id": service.slug, "kind": check.kind, "timeout": check.timeout,
            "url": check.url, "ranges": check.status_ranges(), "body": check.body,
            "verify": check.tls_verify, "address": check.address,
            "command": list(check.command)}


def check_argv(host: HostConfig, services: Sequence[ServiceConfig]) -> list[str]:
    """The one command that runs ``services``' checks on ``host``."""
    spec = json.dumps([check_spec(s) for s in services], separators=(",", ":"))
    return [host.python, "-I", "-c", SCRIPT, spec]


def run_checks(executor: Executor, host: HostConfig,
               services: Sequence[ServiceConfig]) -> dict[str, dict[str, Any]]:
    """Run ``services``' checks on ``host`` in one command; each one's result by slug
    (``ok`` None: the check could not be run, ``message`` says why). A RemoteError when
    the host could not be asked at all."""
    if not services:
        return {}
    timeout = max(s.health.timeout for s in services) + 3  # type: ignore[union-attr]
    result = executor.run(host, check_argv(host, services), timeout=timeout, cap=OUTPUT_CAP,
                          probe=True)
    found: dict[str, dict[str, Any]] = {}
    for line in result.stdout.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and item.get("id") in {s.slug for s in services}:
            found[item["id"]] = item
    if len(found) < len(services):
        why = _why_missing(host, result.exit_code, result.stderr)
        for svc in services:
            found.setdefault(svc.slug, {"id": svc.slug, "ok": None, "status": None,
                                        "latency_ms": None, "message": why})
    return found


def _why_missing(host: HostConfig, code: int, stderr: str) -> str:
    if code == 127 or "No such file" in stderr:
        return (f"{host.python} is not on {host.name}: install python3 there (apt install "
                "python3-minimal) or set hosts.NAME.python")
    tail = stderr.strip().splitlines()[-1:] or [f"exit {code}"]
    return f"the check did not report ({tail[0][:200]})"


class HealthRunner:
    """Runs one host's checks on their intervals, on its own thread, and hands each round's
    results to ``publish`` (slug -> result, the epoch the round began)."""

    def __init__(self, executor: Executor, host: HostConfig,
                 services: Sequence[ServiceConfig],
                 publish: Callable[[dict[str, dict[str, Any]], float], None],
                 unit_up: Callable[[str], bool] = lambda unit: True):
        self.executor, self.host = executor, host
        self.services = {s.slug: s for s in services if s.health is not None}
        self.publish, self.unit_up = publish, unit_up
        self.rounds = 0  # commands sent (a public counter)
        now = time.monotonic()
        self._due = {slug: now for slug in self.services}
        self._fast: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"recon-health-{host.name}")

    def start(self) -> None:
        if self.services:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def poke(self, unit: str) -> None:
        """``unit`` (re)started: check it now, and again soon while it fails."""
        with self._lock:
            for slug, svc in self.services.items():
                if svc.unit == unit:
                    self._due[slug] = time.monotonic()
                    self._fast[slug] = svc.health.fail_after  # type: ignore[union-attr]
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._round()
            except Exception:  # never die silently; the next round tries again
                log.exception("health checks of %s failed", self.host.name)
                self._stop.wait(FAST_RETRY_SECONDS)

    def _round(self) -> None:
        shortest = min(s.health.interval for s in self.services.values())  # type: ignore
        with self._lock:
            now = time.monotonic()
            due = [slug for slug, at in self._due.items() if at <= now + shortest / 2]
            first = min(self._due.values())
        if not any(self._due[slug] <= now for slug in due):
            self._wake.clear()
            self._wake.wait(max(first - now, 0.05))
            return
        started, began = time.time(), time.monotonic()
        ran = [self.services[s] for s in due if self.unit_up(self.services[s].unit)]
        results: dict[str, dict[str, Any]] = {}
        if ran:
            self.rounds += 1
            try:
                results = run_checks(self.executor, self.host, ran)
            except RemoteError as exc:  # the supervisor tells of the host; try next round
                log.info("health checks on %s not run: %s", self.host.name, exc.message)
        if results:
            self.publish(results, started)
        with self._lock:
            for slug in due:
                svc = self.services[slug]
                interval = svc.health.interval  # type: ignore[union-attr]
                if self._fast.get(slug) and not (results.get(slug) or {}).get("ok"):
                    self._fast[slug] -= 1
                    self._due[slug] = began + min(interval, FAST_RETRY_SECONDS)
                else:
                    self._fast.pop(slug, None)
                    # On the schedule (not from now), so checks of one interval stay together;
                    # after a stall (the host was down), from now.
                    due_next = self._due[slug] + interval
                    self._due[slug] = due_next if due_next > began else began + interval
