"""``python -m bench.slowloris``: RECON under a slowloris, served directly by gunicorn and
through the shipped nginx config (issue 24, item 4). Root; about a minute.

One real host, RECON served as ``make run`` serves it (``python -m recon.entry.serve``: gunicorn
gthread, 2 workers, 64 threads). ``--conns`` clients each open a connection, send a request
line and then one more header line every ``--interval`` seconds, never ending the headers.
Meanwhile a probe asks for ``/healthz`` and ``/api/services`` (a fresh connection each, a
``--probe-timeout`` deadline) once a second. For each target it prints how many probes were
answered and how fast, and how long the slow connections lived (how many were still open at
the end). First straight at gunicorn, then through nginx with deploy/nginx/recon.conf (only
ports and the certificate changed: the shipped ``client_header_timeout 10s``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import ssl
import statistics
import sys
import threading
import time
from pathlib import Path

from .fleet import ROOT, fleet, serve
from .stats import load

sys.path.insert(0, str(ROOT / "tests" / "support"))
from nginx_server import NGINX  # noqa: E402  (the tests' nginx runner)
from nginx_server import Nginx as _Nginx


def Nginx(tmp: Path, upstream: int) -> _Nginx:  # noqa: N802 - used as the class it was
    """The shipped site config with only its ports and certificate swapped (its own 10 s
    header timeout kept: that is what the slowloris meets), in front of ``upstream``."""
    return _Nginx(tmp, upstream, shipped_timeouts=True, worker_connections=4096)


class Target:
    """Where the slow clients and the probes connect: gunicorn itself, or nginx over TLS."""

    def __init__(self, name: str, port: int, ctx: ssl.SSLContext | None = None):
        self.name, self.port, self.ctx = name, port, ctx

    def raw(self, timeout: float) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if self.ctx is not None:
            sock = self.ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        return sock

    def http(self, timeout: float) -> http.client.HTTPConnection:
        if self.ctx is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


def probe(target: Target, path: str, token: str, timeout: float) -> tuple[str, float]:
    """One request on a fresh connection: its status (or the failure) and its seconds."""
    started = time.monotonic()
    conn = target.http(timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        resp.read()
        outcome = str(resp.status)
    except TimeoutError:
        outcome = "timeout"
    except OSError as exc:
        outcome = type(exc).__name__
    finally:
        conn.close()
    return outcome, time.monotonic() - started


def slow_clients(target: Target, conns: int, interval: float, stop: threading.Event,
                 cut: dict[int, float], started: float) -> list[socket.socket]:
    """Open ``conns`` half-sent requests and feed each a header line every ``interval`` s
    until ``stop``; ``cut[i]`` is when the server closed the i-th (seconds from start)."""
    socks: list[socket.socket] = []
    for i in range(conns):
        try:
            sock = target.raw(10)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: recon\r\n")
            socks.append(sock)
        except OSError:
            cut[i] = time.monotonic() - started  # refused at once
            socks.append(None)  # type: ignore[arg-type]

    def feed() -> None:
        n = 0
        while not stop.wait(interval):
            n += 1
            for i, sock in enumerate(socks):
                if sock is None or i in cut:
                    continue
                try:
                    sock.settimeout(5)
                    sock.sendall(f"X-Slow-{n}: {'a' * 8}\r\n".encode())
                    sock.settimeout(0.001)
                    try:
                        sock.recv(1)  # an answer (e.g. 408) or EOF: the server ended it
                        cut[i] = time.monotonic() - started
                    except (TimeoutError, ssl.SSLWantReadError):
                        pass
                except OSError:
                    cut[i] = time.monotonic() - started
    threading.Thread(target=feed, daemon=True).start()
    return socks


def attack(target: Target, token: str, args) -> dict:
    """Run the slow clients for ``args.seconds`` and probe once a second meanwhile."""
    baseline = [probe(target, "/healthz", token, args.probe_timeout) for _ in range(3)]
    stop, cut = threading.Event(), {}
    started = time.monotonic()
    socks = slow_clients(target, args.conns, args.interval, stop, cut, started)
    opened = time.monotonic() - started
    probes: list[dict] = []
    while time.monotonic() - started < args.seconds:
        for path in ("/healthz", "/api/services"):
            at = time.monotonic() - started
            outcome, took = probe(target, path, token, args.probe_timeout)
            probes.append({"at": round(at, 2), "path": path, "outcome": outcome,
                           "seconds": round(took, 3)})
        time.sleep(max(0.0, 1 - (time.monotonic() - started) % 1))
    still_open = sum(1 for i, s in enumerate(socks) if s is not None and i not in cut)
    stop.set()
    for s in socks:
        if s is not None:
            s.close()
    answered = [p for p in probes if p["outcome"] == "200"]
    return {
        "target": target.name, "conns": args.conns, "interval": args.interval,
        "seconds": args.seconds, "opened_in_seconds": round(opened, 2),
        "baseline_healthz_seconds": [round(t, 3) for _, t in baseline],
        "probes": len(probes), "answered": len(answered),
        "answered_median_seconds": round(statistics.median(p["seconds"] for p in answered), 3)
        if answered else None,
        "answered_max_seconds": max((p["seconds"] for p in answered), default=None),
        "failures": sorted({p["outcome"] for p in probes} - {"200"}),
        "slow_still_open_at_end": still_open,
        "slow_cut_after_seconds": {
            "min": round(min(cut.values()), 1) if cut else None,
            "median": round(statistics.median(cut.values()), 1) if cut else None,
            "max": round(max(cut.values()), 1) if cut else None},
        "probe_log": probes,
    }


def show(r: dict) -> str:
    cut = r["slow_cut_after_seconds"]
    return (f"{r['target']:<22} probes answered {r['answered']:>2}/{r['probes']:<2} "
            f"(median {r['answered_median_seconds']} s, max {r['answered_max_seconds']} s; "
            f"failures {', '.join(r['failures']) or 'none'}); slow connections still open "
            f"after {r['seconds']:g} s: {r['slow_still_open_at_end']}/{r['conns']}"
            + (f", cut after {cut['min']}-{cut['max']} s" if cut["min"] is not None else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conns", type=int, default=300)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--probe-timeout", type=float, default=5.0)
    parser.add_argument("--only", choices=("direct", "nginx"))
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("this boots a real host (systemd-nspawn) and runs nginx: needs root")
    results = {"load_at_start": load(), "runs": []}
    with fleet(1) as f, serve(f.workdir, "slowloris", f.infos, f.known_hosts) as srv:
        if args.only in (None, "direct"):
            results["runs"].append(attack(Target("gunicorn (direct)", srv.port), srv.token,
                                          args))
            print(show(results["runs"][-1]), flush=True)
            time.sleep(3)  # the slow connections closed: gunicorn's threads come back
        if args.only in (None, "nginx") and os.path.exists(NGINX):
            nginx = Nginx(f.workdir / "nginx", srv.port)
            try:
                results["runs"].append(attack(Target("nginx -> gunicorn", nginx.https,
                                                     nginx.ctx), srv.token, args))
                print(show(results["runs"][-1]), flush=True)
            finally:
                nginx.stop()
    results["load_at_end"] = load()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
