"""Host change -> snapshot -> browser event latency, and stale reads after actions."""

from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time

from .fleet import Client, Fleet, Server
from .stats import load, stats


class EventStream:
    """An open ``GET /api/events``; ``unit`` events land in ``self.events`` with the time
    (perf_counter) their last line arrived."""

    def __init__(self, srv: Server):
        self.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        self.conn.request("GET", "/api/events", headers={"Authorization": f"Bearer {srv.token}"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.status
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        kind, data = None, []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "":
                    if kind == "unit" and data:
                        self.events.put((time.perf_counter(), json.loads("".join(data))))
                    kind, data = None, []
        except (OSError, ValueError, AttributeError):  # AttributeError: closed under us
            return

    def wait_for(self, slug: str, state: str, timeout: float = 10) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                at, event = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            svc = event["service"]
            if svc["slug"] == slug and svc["state"] == state:
                return at
        return None

    def close(self) -> None:
        self.conn.close()


def bench_event_latency(f: Fleet, srv: Server, samples: int) -> dict:
    host, unit = f.hosts[3], "bench-0.service"
    slug = f"{host.name}-bench-0"
    stream = EventStream(srv)
    latencies, missed, command_ms = [], 0, []
    before = load()
    for i in range(samples):
        action, state = ("stop", "inactive") if i % 2 == 0 else ("start", "active")
        time.sleep(random.uniform(0.2, 0.5))
        while not stream.events.empty():
            stream.events.get()
        t0 = time.perf_counter()
        host.systemctl(action, unit)  # at the host's console (nsenter), not through RECON
        command_ms.append((time.perf_counter() - t0) * 1000)
        at = stream.wait_for(slug, state)
        if at is None:
            missed += 1
        else:
            latencies.append((at - t0) * 1000)
    if host.show(unit, "ActiveState")["ActiveState"] != "active":
        host.systemctl("start", unit)
    crashes, crash_missed = [], 0
    for _ in range(max(5, samples // 3)):  # a crash: kill -9 of the main process -> failed
        time.sleep(random.uniform(0.2, 0.5))
        pid = host.main_pid(unit)
        while not stream.events.empty():
            stream.events.get()
        t0 = time.perf_counter()
        host.run(["kill", "-9", str(pid)])
        at = stream.wait_for(slug, "failed")
        if at is None:
            crash_missed += 1
        else:
            crashes.append((at - t0) * 1000)
        host.systemctl("start", unit)
        stream.wait_for(slug, "active")
    stream.close()
    return {"load": f"{before} -> {load()}", "from_command_start": stats(latencies),
            "host_systemctl_call": stats(command_ms), "missed": missed, "samples": samples,
            "kill9_to_failed_event": stats(crashes), "kill9_missed": crash_missed}


def bench_stale_reads(f: Fleet, srv: Server, cycles: int = 10, reads: int = 3) -> dict:
    slug = f"{f.hosts[4].name}-bench-1"
    actor = srv.client()
    stale, total, details = 0, 0, []
    for _ in range(cycles):
        for action, state in (("stop", "inactive"), ("start", "active")):
            status, body = actor.request("POST", f"/api/services/{slug}/{action}")
            assert status == 200 and body["success"], body
            for _ in range(reads):
                c = Client(srv.port, srv.token)  # a new connection: either worker answers
                _, seen = c.request("GET", f"/api/services/{slug}/status")
                c.close()
                total += 1
                if seen["state"] != state:
                    stale += 1
                    details.append({"after": action, "saw": seen["state"]})
    actor.close()
    return {"stale": stale, "reads": total, "details": details[:10]}
