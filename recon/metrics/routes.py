"""``GET /metrics``: Prometheus text format, behind the same auth as the API (a viewer
token: ``Authorization: Bearer ...`` in the scrape config)."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from recon.metrics.collector import collect
from recon.ssh import timing as process
from recon.web.context import runtime

bp = Blueprint("metrics", __name__)


class _Snapshot:
    """A collector over families already read (inside the request's app context)."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        yield from self.families


@bp.get("/metrics")
def metrics():
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(collect(runtime().config)))
    body = generate_latest(registry) + generate_latest(process.REGISTRY)
    return Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)
