"""Summaries of latency samples, paired comparisons and the machine's load at the time."""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable


def pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"median_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan"),
                "n": 0}
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(pct(ordered, 0.95), 2), "p99_ms": round(pct(ordered, 0.99), 2),
            "n": len(ordered)}


def load() -> str:
    """The 1-minute load average (the machine is shared: it goes next to every figure)."""
    return f"{os.getloadavg()[0]:.2f}"


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def interleave(fns: dict[str, Callable[[], object]], n: int, warmup: int = 2,
               every: dict[str, int] | None = None) -> dict[str, list[float]]:
    """Run every measure once per round, in a shuffled order, ``n`` rounds: drift of the
    shared machine hits all of them alike, and round i of A pairs with round i of B.
    ``every[name] = k`` runs a slow measure only every k-th round."""
    every = every or {}
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    out: dict[str, list[float]] = {k: [] for k in fns}
    for i in range(n):
        names = [k for k in fns if i % every.get(k, 1) == 0]
        random.shuffle(names)
        for k in names:
            out[k].append(timed(fns[k]))
    return out


def paired(a: list[float], b: list[float]) -> dict[str, float]:
    """Median of a-b and of a/b over the rounds both ran in."""
    n = min(len(a), len(b))
    pairs = list(zip(a[:n], b[:n], strict=True))
    ratios = sorted(x / y for x, y in pairs)
    return {"diff_median_ms": round(statistics.median(x - y for x, y in pairs), 2),
            "ratio_median": round(statistics.median(ratios), 2),
            # the spread of the per-round ratio: how much one verdict can be trusted
            "ratio_p25": round(pct(ratios, 0.25), 2), "ratio_p75": round(pct(ratios, 0.75), 2),
            "n": n}
