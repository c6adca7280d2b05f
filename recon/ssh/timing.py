"""Per-process metrics: kept in the memory of the process that measured them.

``recon_ssh_command_seconds`` is observed by the SSH executor. Under gunicorn each worker
has its own histogram, and a scrape is answered by one of them: each worker runs the monitor
reads of its own share of the hosts and the actions it served. Prometheus's ``rate()`` and
``histogram_quantile()`` cope with such counters as with restarts; scrape each worker (or
run one worker) where exact per-host figures matter.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
SSH_COMMAND_SECONDS = Histogram(
    "recon_ssh_command_seconds", "Duration of SSH commands RECON ran, by host (this process).",
    ["host"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


def observe_ssh(host: str, seconds: float) -> None:
    """Count one SSH command's duration for ``host``."""
    SSH_COMMAND_SECONDS.labels(host).observe(seconds)
