"""Prometheus metrics (``GET /metrics``): gauges derived from the shared snapshot at scrape
time (the same answer from every worker), plus this process's SSH command latencies."""
