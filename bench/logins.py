"""120 bad logins arriving at once (issue 24, item 5): ``/healthz`` latency and the server's
memory meanwhile. RECON runs behind a trusted proxy address (127.0.0.1) so each login can
name its source in X-Forwarded-For: from one address (the throttle's case) and from 120
(a botnet: none of them is throttled, so only the bound on password hashing holds).
Each source sends ``waves`` waves with one login form (one CSRF cookie), as the attacker
did."""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections import Counter
from urllib.parse import urlencode

from .fleet import Fleet, Server, serve
from .rest import memory_mb
from .stats import load, stats

AT_ONCE = 120


def _form(port: int) -> tuple[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    page = resp.read().decode()
    conn.close()
    return (resp.getheader("Set-Cookie").split(";")[0],
            re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))


def _post(port: int, cookie: str, csrf: str, source: str, i: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/login", body=urlencode(
            {"username": "bench-ui", "password": f"wrong-password-{i}", "csrf_token": csrf}),
            headers={"Cookie": cookie, "X-Forwarded-For": source,
                     "Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return 0
    finally:
        conn.close()


class Watch:
    """``/healthz`` every 20 ms on a keep-alive connection and the server's RSS every
    50 ms, in two threads, until stopped."""

    def __init__(self, srv: Server) -> None:
        self.srv, self.stop = srv, threading.Event()
        self.healthz: list[float] = []
        self.failed = 0
        self.rss: list[float] = []
        self.threads = [threading.Thread(target=self._health, daemon=True),
                        threading.Thread(target=self._memory, daemon=True)]
        for t in self.threads:
            t.start()

    def _health(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
                ok = False
            self.healthz.append((time.perf_counter() - t0) * 1000)
            self.failed += not ok
            time.sleep(0.02)
        conn.close()

    def _memory(self) -> None:
        while not self.stop.is_set():
            self.rss.append(memory_mb(self.srv.pids(), "VmRSS"))
            time.sleep(0.05)

    def end(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(35)


def _wave(port: int, cookie: str, csrf: str, sources: list[str]) -> tuple[Counter, float]:
    barrier = threading.Barrier(len(sources))
    codes: list[int] = [0] * len(sources)

    def one(i: int) -> None:
        barrier.wait()
        codes[i] = _post(port, cookie, csrf, sources[i], i)

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sources))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return Counter(codes), round(time.perf_counter() - started, 2)


def _scenario(srv: Server, waves: int, sources) -> dict:
    time.sleep(2)
    rest_rss = memory_mb(srv.pids(), "VmRSS")
    cookie, csrf = _form(srv.port)
    watch = Watch(srv)
    time.sleep(1)
    before = len(watch.healthz)
    answers: Counter = Counter()
    took = []
    for w in range(waves):
        codes, seconds = _wave(srv.port, cookie, csrf, sources(w))
        answers.update(codes)
        took.append(seconds)
        time.sleep(1)
    watch.end()
    during = watch.healthz[before:]
    return {"waves": waves, "at_once": AT_ONCE, "wave_seconds": took,
            "answers": {str(k): v for k, v in sorted(answers.items())},
            "evaluated": answers[401], "healthz": {**stats(during), "max_ms": round(
                max(during, default=0), 1), "failed": watch.failed},
            "rss_mb_at_rest": rest_rss, "rss_mb_peak": max(watch.rss, default=0)}


def bench_logins(f: Fleet, waves: int = 3) -> dict:
    """Both scenarios against one RECON (as ``make run`` serves it) for the first host."""
    before = load()
    env = {"RECON_TRUSTED_PROXIES": "127.0.0.1"}
    with serve(f.workdir, "logins", f.infos[:1], f.known_hosts, env=env) as srv:
        many = _scenario(srv, waves, lambda w: [f"10.{w}.{i // 200}.{i % 200 + 1}"
                                                 for i in range(AT_ONCE)])
        one = _scenario(srv, waves, lambda w: ["203.0.113.7"] * AT_ONCE)
    return {"load": f"{before} -> {load()}", "many_addresses": many, "one_address": one}
