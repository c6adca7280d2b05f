"""``/api/services``: status of every service, one service, and actions on it.

The endpoint shapes are those of the integration runbook (``GET .../<slug>/status`` and
``POST .../<slug>/<action>``) so its curl checks keep working.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, jsonify

from .. import audit
from ..auth import Principal, current_user
from ..config import ACTIONS, SYSTEMCTL_ACTIONS, ServiceConfig
from ..errors import ApiError
from ..runtime import get_service, runtime
from ..ssh import RemoteError
from ..systemd import run_action

bp = Blueprint("services", __name__)


def describe(service: ServiceConfig, status: dict[str, Any]) -> dict[str, Any]:
    """A service's config and status as one JSON object."""
    return {
        "slug": service.slug,
        "service": service.name,
        "name": service.name,
        "host": service.host,
        "actions": sorted(service.actions, key=ACTIONS.index),
        **status,
    }


@bp.get("/api/services")
def list_services():
    """Every service with its status; one command per host, hosts in parallel."""
    rt = runtime()
    started = time.monotonic()
    statuses = rt.statuses.fleet_status()
    hosts: dict[str, dict[str, Any]] = {}
    for name in rt.config.hosts:
        hosts[name] = {"name": name, "reachable": True}
    for svc in rt.config.services.values():
        st = statuses[svc.slug]
        if "error" in st:
            hosts[svc.host] = {"name": svc.host, "reachable": st["state"] != "unreachable",
                               **{k: st[k] for k in ("error", "message", "hint")}}
    return jsonify({
        "services": [describe(s, statuses[s.slug]) for s in rt.config.services.values()],
        "hosts": list(hosts.values()),
        "duration_ms": round((time.monotonic() - started) * 1000, 2),
    })


@bp.get("/api/services/<slug>/status")
def service_status(slug: str):
    """One service's status (the runbook's status check)."""
    service = get_service(slug)
    return jsonify(describe(service, runtime().statuses.service_status(service)))


def _check_action(service: ServiceConfig, action: str) -> None:
    if action not in ACTIONS:
        raise ApiError(400, "unknown_action", f"{action!r} is not an action",
                       f"Use one of: {', '.join(ACTIONS)}.")
    if action not in service.actions:
        audit.record(action, success=False, service=service.slug, host=service.host,
                     error="action_not_allowed")
        raise ApiError(403, "action_not_allowed",
                       f"{action} is not allowed for {service.slug}",
                       "Add it to the service's `actions` in recon.toml (and to the host's "
                       "sudoers drop-in) if it should be.",
                       allowed=sorted(service.actions, key=ACTIONS.index))


READ_ACTIONS = ("status", "logs")


def may_act(user: Principal, service: ServiceConfig) -> bool:
    """Operators may act unless the service names who may; admins always may."""
    if user.can("admin"):
        return True
    if not user.can("operator"):
        return False
    return not service.allow or user.username in service.allow or (
        f"role:{user.role}" in service.allow)


@bp.post("/api/services/<slug>/<action>")
def service_action(slug: str, action: str):
    """Run an allowed action; audited before the response, failures included."""
    service = get_service(slug)
    _check_action(service, action)
    if action not in READ_ACTIONS and not may_act(current_user(), service):
        audit.record(action, success=False, service=slug, host=service.host, error="forbidden")
        raise ApiError(403, "forbidden", f"{current_user().username} may not {action} {slug}",
                       "Actions need the operator role (and, where the service has an "
                       "`allow` list, to be named in it).")
    rt = runtime()
    if action == "status":
        return jsonify(describe(service, rt.statuses.service_status(service)))
    if action == "logs":
        from ..logs.journal import runbook_logs
        return runbook_logs(service)
    assert action in SYSTEMCTL_ACTIONS
    host = rt.config.hosts[service.host]
    entry = audit.begin(action, service=slug, host=service.host)
    try:
        result = run_action(rt.executor, host, service, action)
    except RemoteError as exc:
        rt.statuses.cache.invalidate(service.host)
        audit.finish(entry, success=False, error=exc.code, output=exc.message)
        return jsonify({"success": False, "action": action, "service": slug,
                        **exc.to_dict()}), exc.status
    rt.statuses.cache.invalidate(service.host)
    audit.finish(entry, success=result.ok, exit_code=result.exit_code,
                 duration_ms=result.duration_ms,
                 error=None if result.ok else "action_failed",
                 output=(result.stdout + result.stderr))
    body = {
        "success": result.ok,
        "action": action,
        "service": slug,
        "exit_code": result.exit_code,
        "stdout": result.stdout.strip(),
        "stderr": result.stderr.strip(),
        "duration_ms": result.duration_ms,
        "status": describe(service, rt.statuses.service_status(service)),
    }
    if not result.ok:
        body.update(error="action_failed",
                    message=f"systemctl {action} {service.unit} exited {result.exit_code}",
                    hint="Read the service's logs for why it failed.")
    return jsonify(body)
