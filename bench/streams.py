"""``/healthz`` while one viewer holds as many live event streams as it can get (issue 24):
RECON served as ``make run`` serves it (2 workers x 64 threads) twice, once with the stream
caps lifted (what the server did before they counted event streams) and once as shipped.
Each stream holds a server thread; without the caps they took all of them."""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor

from recon import create_app
from recon.auth.accounts import create_token
from recon.web.context import runtime

from .fleet import Fleet, Server, serve
from .stats import load, stats

#: More than the server's 128 threads, as one viewer's script or many tabs could open.
STREAMS = 150
HEALTHZ_TIMEOUT = 5.0
LIFTED = {"event_streams_per_user": 100_000, "held_threads_per_user": 100_000,
          "held_threads_per_process": 100_000, "held_threads_max": 100_000}


def _viewer_token(srv: Server) -> str:
    app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": str(srv.config),
                      "SQLALCHEMY_DATABASE_URI": srv.database})
    with app.app_context():
        _, token = create_token("greedy-viewer", "viewer")
    runtime(app).executor.close_all()
    return token


def _open(port: int, token: str) -> tuple[http.client.HTTPConnection, int | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/events", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
    except TimeoutError:
        return conn, None  # queued behind busy threads
    if resp.status != 200:
        resp.read()
    return conn, resp.status


def _healthz(port: int, seconds: float) -> tuple[list[float], int]:
    """Plain ``GET /healthz`` on a new connection each, one after another, for ``seconds``;
    a request that gets no answer within ``HEALTHZ_TIMEOUT`` counts as that long."""
    samples, timeouts = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HEALTHZ_TIMEOUT)
        t0 = time.perf_counter()
        try:
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except TimeoutError:
            ok = False
        samples.append((time.perf_counter() - t0) * 1000)
        timeouts += not ok
        conn.close()
    return samples, timeouts


def _one(f: Fleet, name: str, settings: dict, seconds: float) -> dict:
    with serve(f.workdir, f"streams-{name}", f.infos, f.known_hosts, **settings) as srv:
        token = _viewer_token(srv)
        before = load()
        with ThreadPoolExecutor(max_workers=STREAMS) as pool:
            opened = list(pool.map(lambda _: _open(srv.port, token), range(STREAMS)))
        try:
            samples, failed = _healthz(srv.port, seconds)
        finally:
            for conn, _ in opened:
                conn.close()
        statuses = [status for _, status in opened]
        return {"load": f"{before} -> {load()}", "streams_tried": STREAMS,
                "answered": statuses.count(200), "refused_429": statuses.count(429),
                "queued": statuses.count(None), "healthz": stats(samples),
                "healthz_failed": failed}


def bench_stream_hold(f: Fleet, seconds: float = 20.0) -> dict:
    """The same viewer, the same streams, the caps lifted (before) and as shipped (after)."""
    return {"before_caps_lifted": _one(f, "lifted", LIFTED, seconds),
            "after_caps_shipped": _one(f, "capped", {}, seconds)}
