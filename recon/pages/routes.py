"""The browser pages: the fleet dashboard (``/``) and the audit trail (``/audit``, admin).

The pages are skeletons rendered from validated config (hosts, services, what this user may
do); everything that comes from a host is fetched by the page's script and inserted as text.

The dashboard does not grow with the fleet: it always carries every service's config as one
compact JSON attribute (``data-fleet``: slug, name, host, unit, tags, row kind, rolling
actions), the page's model of the fleet (static/lib/fleet.js). Below ``is_large`` the server
renders every row too, as it always did. Above it the host sections come without rows, and
with one ``<template>`` per *row kind* (the buttons this user may use on a service), rendered
by the same macro as a server-rendered row: the page builds a host's rows from them when the
host is expanded (static/lib/sections.js).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, render_template

from recon.audit.models import AuditEntry
from recon.config import (
    ACTIONS,
    RUN_ACTIONS,
    SETUP_ACTIONS,
    HostConfig,
    ServiceConfig,
)
from recon.db.extensions import db
from recon.rolling.routes import ROLLING_ACTIONS
from recon.terminals.ttyd import TtydError, resolve_ttyd
from recon.web.context import runtime
from recon.web.policy import current_user, may_act

bp = Blueprint("dashboard", __name__)
SETUP_LABELS = {"enable": "Enable at boot", "disable": "Disable at boot",
                "reset-failed": "Reset failed", "mask": "Mask", "unmask": "Unmask"}


@dataclass(frozen=True)
class Placeholder:
    """The service a row kind's ``<template>`` is rendered for: the page puts the real
    service's values where these tokens are (sections.js, fillRow)."""
    slug: str = "__slug__"
    name: str = "__name__"
    host: str = "__host__"
    unit: str = "__unit__"
    tags: tuple[str, ...] = ()


PLACEHOLDER = Placeholder()


@dataclass(frozen=True)
class Panel:
    """What the dashboard shows for one service before its status arrives."""
    service: ServiceConfig
    actions: tuple[str, ...]  # start/stop/restart/reload this user may run, in ACTIONS order
    setup: tuple[str, ...]  # enable/disable/reset-failed/mask/unmask this user may run
    logs: bool


# A fleet past either bound is "large": its rows are built by the page, only for the hosts it
# shows expanded (the ones with problems, and those the user opens). Below both (the demo's
# 3 hosts and every small test fleet) the server renders every row and every host starts
# expanded. 8 hosts x 12 units is still one screenful of scrolling; 100 rows is well inside
# what a page paints at once.
LARGE_HOSTS = 8
LARGE_SERVICES = 100


def is_large(config) -> bool:
    return len(config.hosts) > LARGE_HOSTS or len(config.services) > LARGE_SERVICES


def _panels() -> dict[str, list[Panel]]:
    """Services grouped by host, in config order; hosts without services included."""
    config, user = runtime().config, current_user()
    grouped: dict[str, list[Panel]] = {name: [] for name in config.hosts}
    for svc in config.services.values():
        allowed = [a for a in ACTIONS if a in svc.actions and may_act(user, svc, a)]
        grouped.setdefault(svc.host, []).append(Panel(
            svc, tuple(a for a in allowed if a in RUN_ACTIONS),
            tuple(a for a in allowed if a in SETUP_ACTIONS), "logs" in svc.actions))
    return grouped


def _rollable() -> dict[str, list[tuple[ServiceConfig, tuple[str, ...]]]]:
    """Per host, the services this user may include in a rolling action, with the rolling
    actions each allows."""
    user, grouped = current_user(), {}
    for svc in runtime().config.services.values():
        allowed = tuple(a for a in ROLLING_ACTIONS if a in svc.actions and may_act(user, svc, a))
        if allowed:
            grouped.setdefault(svc.host, []).append((svc, allowed))
    return grouped


def _fleet_data(hosts: dict[str, list[Panel]],
                rollable: dict[str, list[tuple[ServiceConfig, tuple[str, ...]]]],
                large: bool) -> tuple[dict, list[Panel]]:
    """The page's data about every service, and one sample panel per row kind (its index is
    the kind). A service is ``[slug, name, host, unit, tags, kind, rolling actions]``: arrays,
    not objects, so that 10,000 services stay about 1 MB."""
    kinds: dict[tuple, int] = {}
    samples: list[Panel] = []
    rolling = {svc.slug: acts for items in rollable.values() for svc, acts in items}
    services = []
    for panels in hosts.values():
        for p in panels:
            kind = (p.actions, p.setup, p.logs)
            if kind not in kinds:
                kinds[kind] = len(samples)
                samples.append(p)
            s = p.service
            services.append([s.slug, s.name, s.host, s.unit, list(s.tags), kinds[kind],
                             list(rolling.get(s.slug, ()))])
    return {"large": large, "services": services, "rolling_hosts": list(rollable)}, samples


def terminal_off(host: HostConfig) -> str:
    """Why terminals cannot open on ``host`` (known without asking it), or ""."""
    if not host.terminal_user:
        return "Terminals are off for this host: no terminal_user is set in recon.toml"
    try:
        resolve_ttyd(runtime().config.settings.ttyd_path)
    except TtydError:
        return "Terminals are unavailable: ttyd is not installed on the dashboard server"
    return ""


@bp.get("/")
def index():
    config = runtime().config
    hosts, rollable, large = _panels(), _rollable(), is_large(config)
    fleet, kinds = _fleet_data(hosts, rollable, large)
    return render_template("dashboard/index.html", hosts=hosts, user=current_user(),
                           all_actions=RUN_ACTIONS, large=large, fleet=fleet, kinds=kinds,
                           placeholder=PLACEHOLDER,
                           terminals={n: terminal_off(h) for n, h in config.hosts.items()},
                           setup_labels=SETUP_LABELS, rollable=rollable,
                           tags=sorted({t for s in config.services.values() for t in s.tags}),
                           refresh_seconds=config.settings.refresh_seconds,
                           rolling_settle_seconds=config.settings.rolling_settle_seconds)


@bp.get("/services/<slug>")
def unit_page(slug: str):
    """One service's workbench: its state and who changed it, the row's actions, its logs,
    the unit file, dependencies, properties, status text, timeline and timer."""
    service = runtime().config.services.get(slug)
    if service is None:
        return render_template("dashboard/missing.html", user=current_user(), slug=slug), 404
    user = current_user()
    # The row's buttons, by the row's rules: the actions listed and this user may do.
    allowed = [a for a in ACTIONS if a in service.actions and may_act(user, service, a)]
    return render_template("dashboard/unit.html", user=user, service=service,
                           actions=[a for a in allowed if a in RUN_ACTIONS],
                           setup=[a for a in allowed if a in SETUP_ACTIONS],
                           logs="logs" in service.actions, setup_labels=SETUP_LABELS)


@bp.get("/audit")
def audit_page():
    user = current_user()
    if not user.can("admin"):
        return render_template("dashboard/forbidden.html", user=user,
                               needed="admin"), 403
    config = runtime().config
    # The filters offer what the trail holds (plus every service action), never a stale list.
    seen = db.session.execute(sa.select(AuditEntry.action, AuditEntry.actor).distinct()).all()
    return render_template("dashboard/audit.html", user=user,
                           services=sorted(config.services), hosts=sorted(config.hosts),
                           actions=sorted(set(ACTIONS) | {a for a, _ in seen}),
                           actors=sorted({actor for _, actor in seen}))
