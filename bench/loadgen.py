"""A load generator in its own process (so it does not share the server's GIL or the
bench's): ``python -m bench.loadgen PLAN.json`` runs ``clients`` threads for ``seconds``,
each on its own keep-alive connection cycling through the plan's requests, and prints per
label the latencies and the status codes seen, as JSON."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from collections import Counter

from .stats import stats


def worker(plan: dict, offset: int, stop_at: float, out: list) -> None:
    headers = {"Authorization": f"Bearer {plan['token']}"}
    conn = http.client.HTTPConnection("127.0.0.1", plan["port"], timeout=60)
    reqs = plan["requests"]
    i = offset
    while time.monotonic() < stop_at:
        label, method, path = reqs[i % len(reqs)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", plan["port"], timeout=60)
            status = 0
        out.append((label, status, (time.perf_counter() - t0) * 1000))
    conn.close()


def main() -> None:
    plan = json.loads(open(sys.argv[1]).read())
    stop_at = time.monotonic() + plan["seconds"]
    results: list[list] = [[] for _ in range(plan["clients"])]
    threads = [threading.Thread(target=worker, args=(plan, i * 7, stop_at, results[i]))
               for i in range(plan["clients"])]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    by_label: dict[str, dict] = {}
    for label in {r[0] for r in plan["requests"]}:
        rows = [r for rs in results for r in rs if r[0] == label]
        by_label[label] = {**stats([r[2] for r in rows]),
                           "statuses": dict(Counter(str(r[1]) for r in rows))}
    total = sum(len(r) for r in results)
    print(json.dumps({"seconds": round(elapsed, 1), "clients": plan["clients"],
                      "requests": total, "rps": round(total / elapsed, 1),
                      "by_label": by_label}))


if __name__ == "__main__":
    main()
