"""The browser pages: the fleet dashboard (``/``) and the audit trail (``/audit``, admin).

The pages are skeletons rendered from validated config (hosts, services, what this user may
do); everything that comes from a host is fetched by the page's script and inserted as text.
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
class Panel:
    """What the dashboard shows for one service before its status arrives."""
    service: ServiceConfig
    actions: tuple[str, ...]  # start/stop/restart/reload this user may run, in ACTIONS order
    setup: tuple[str, ...]  # enable/disable/reset-failed/mask/unmask this user may run
    logs: bool


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
    return render_template("dashboard/index.html", hosts=_panels(), user=current_user(),
                           all_actions=RUN_ACTIONS,
                           terminals={n: terminal_off(h) for n, h in config.hosts.items()},
                           setup_labels=SETUP_LABELS, rollable=_rollable(),
                           tags=sorted({t for s in config.services.values() for t in s.tags}),
                           refresh_seconds=config.settings.refresh_seconds,
                           rolling_settle_seconds=config.settings.rolling_settle_seconds)


@bp.get("/services/<slug>")
def unit_page(slug: str):
    """One service's detail: unit file, dependencies, properties, status text, timeline."""
    service = runtime().config.services.get(slug)
    if service is None:
        return render_template("dashboard/missing.html", user=current_user(), slug=slug), 404
    return render_template("dashboard/unit.html", user=current_user(), service=service)


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
