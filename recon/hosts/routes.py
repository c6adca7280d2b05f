"""The hosts' units: ``GET /api/hosts``, ``GET /api/hosts/<name>/units`` and the pages
``/hosts`` and ``/hosts/<name>`` (viewer and up).

Everything answers from the stored lists (:mod:`recon.hosts.store`), which the process
watching each host keeps current (:mod:`recon.hosts.watch`); only ``?fresh=1`` (the page's
Refresh) reads the host now, within the caller's bound on host reads (429 past it).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from recon.config import HostConfig
from recon.core.errors import NotFound
from recon.hosts import store
from recon.hosts.filters import CHOICES, Filters, parse_filters
from recon.hosts.view import host_summary, host_units
from recon.services import act
from recon.web.context import runtime
from recon.web.policy import current_user
from recon.web.ratelimit import host_read

bp = Blueprint("hosts", __name__)
# As for a service's ?fresh=1: a host the monitor has found down this long answers at once.
FRESH_DOWN_SECONDS = 3.0


def get_host(name: str) -> HostConfig:
    """The configured host, or 404 ``unknown_host``."""
    host = runtime().config.hosts.get(name)
    if host is None:
        raise NotFound("host", f"no host named {name!r} in recon.toml",
                       "GET /api/hosts lists the configured hosts.")
    return host


def _fresh() -> bool:
    return request.args.get("fresh", "") in ("1", "true", "yes")


@bp.get("/api/hosts")
def list_hosts():
    """Every configured host, with its number of services, units and failed units."""
    config, rows = runtime().config, store.stored_all()
    return jsonify({"hosts": [host_summary(config, name, rows.get(name) or store.Stored(name))
                              for name in config.hosts]})


@bp.get("/api/hosts/<name>/units")
def list_units(name: str):
    """The host's units, failed first, filtered by ``type``, ``active``, ``file_state``
    (systemd's words, comma-separated) and ``q`` (in the name or description); ``fresh=1``
    reads the host first (a failed read answers its error, the stored list is kept)."""
    host = get_host(name)
    filters = parse_filters(request.args)
    if _fresh():
        down = act.down_verdict(host.name, down_for=FRESH_DOWN_SECONDS)
        if down is not None:
            raise down
        with host_read():
            store.refresh(runtime().executor, host)
    return jsonify(host_units(runtime().config, store.stored(host.name), filters,
                              admin=current_user().can("admin")))


@bp.get("/hosts")
def hosts_page():
    config, rows = runtime().config, store.stored_all()
    hosts = [host_summary(config, name, rows.get(name) or store.Stored(name))
             for name in config.hosts]
    return render_template("hosts/index.html", user=current_user(), hosts=hosts)


@bp.get("/hosts/<name>")
def host_page(name: str):
    """The host's units, rendered from its stored list in this one request (the page's
    script filters them where they are; Refresh asks the API for a fresh read)."""
    config = runtime().config
    if name not in config.hosts:
        return render_template("hosts/missing.html", user=current_user(), name=name), 404
    data = host_units(config, store.stored(name), Filters(),
                      admin=current_user().can("admin"))
    return render_template("hosts/host.html", user=current_user(), host=config.hosts[name],
                           data=data, choices=CHOICES,
                           refresh_seconds=config.settings.refresh_seconds,
                           every=config.settings.host_units_seconds)
