"""``/api/services``: status of every service, one service, its history, and actions on it.

The endpoint shapes are those of the integration runbook (``GET .../<slug>/status`` and
``POST .../<slug>/<action>``) so its curl checks keep working. Status comes from the
monitor's shared snapshot and never waits on SSH, except ``?fresh=1`` (a synchronous read
under its own short deadline). Actions go to the host and publish the status they leave
behind before answering, so any worker's next read shows it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from recon.audit import store as audit
from recon.config import ACTIONS, ADMIN_ACTIONS, SYSTEMCTL_ACTIONS, ServiceConfig
from recon.core.errors import ApiError
from recon.db.extensions import db
from recon.logs.journal import RUNBOOK_LINES, read_lines
from recon.monitor import snapshot
from recon.monitor.models import UnitState
from recon.ssh import RemoteError
from recon.ssh.systemctl import fetch_statuses, run_action
from recon.web.context import get_service, runtime
from recon.web.errors import error_json
from recon.web.params import int_arg
from recon.web.policy import READ_ACTIONS, current_user, may_act

bp = Blueprint("services", __name__)
log = logging.getLogger("recon.services")
# A "host is down" verdict of the monitor older than this is not trusted to refuse a request.
DOWN_VERDICT_SECONDS = 60.0
# ...and for a synchronous read, only once the host has been down this long.
FRESH_DOWN_SECONDS = 3.0


def describe(service: ServiceConfig, status: dict[str, Any]) -> dict[str, Any]:
    """A service's config and status as one JSON object."""
    return {
        "slug": service.slug,
        "service": service.name,
        "name": service.name,
        "host": service.host,
        "actions": sorted(service.actions, key=ACTIONS.index),
        "tags": list(service.tags),
        **status,
    }


@bp.get("/api/services")
def list_services():
    """Every service with its last observed status, and every host's state (snapshot)."""
    rt = runtime()
    started = time.monotonic()
    statuses, hosts = snapshot.read_fleet(rt.config)
    return jsonify({
        "services": [describe(s, statuses[s.slug]) for s in rt.config.services.values()],
        "hosts": hosts,
        "duration_ms": round((time.monotonic() - started) * 1000, 2),
    })


def _read_now(service: ServiceConfig,
              timeout: float | None = None) -> tuple[dict[str, Any], Callable[[], None]]:
    """Read the unit on the host; the service's view of that read, and the publishing of it
    to the snapshot for the caller to run once the answer is out."""
    rt = runtime()
    host = rt.config.hosts[service.host]
    db.session.commit()  # hold no database connection while waiting on the host
    observed_at = time.time()
    statuses = fetch_statuses(rt.executor, host, [service.unit], timeout=timeout)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def publish() -> None:
        try:
            with app.app_context():
                _publish([service], statuses, observed_at)
        except Exception:  # the answer is gone already; the monitor's next read catches up
            log.exception("publishing the fresh status of %s failed", service.slug)

    # The host answered, so it is up: the view is the read itself, as the snapshot will be.
    row = UnitState(slug=service.slug, host=service.host, unit=service.unit,
                    status=json.dumps(statuses[service.unit], sort_keys=True),
                    observed_at=observed_at)
    return snapshot.service_view(service, row, None), publish


def _publish(services: list[ServiceConfig], statuses: dict[str, dict[str, Any]],
             observed_at: float, cause: snapshot.Cause | None = None) -> None:
    """Store what a request read (the host answered, so it is up, too)."""
    try:
        snapshot.publish_statuses(services, statuses, observed_at, cause)
    except sa.exc.OperationalError:
        # The monitor publishes the same state within seconds; the answer must still go out.
        db.session.rollback()
        log.warning("could not publish the status of %s: database busy",
                    ", ".join(s.slug for s in services))


@bp.get("/api/services/<slug>/status")
def service_status(slug: str):
    """One service's status (the runbook's status check); ``?fresh=1`` reads the host now,
    within ``status_fresh_timeout`` (a host in back-off in this process answers at once)."""
    service = get_service(slug)
    if request.args.get("fresh") in ("1", "true", "yes"):
        # A host the monitor has found down for a while (not a blip such as an sshd
        # restart) answers at once, rather than after this worker's own connect timeout.
        down = snapshot.host_down(snapshot.read_host(service.host),
                                  fresh_within=DOWN_VERDICT_SECONDS, down_for=FRESH_DOWN_SECONDS)
        if down is not None:
            raise down
        timeout = runtime().config.settings.status_fresh_timeout
        view, publish = _read_now(service, timeout)
        resp = jsonify(describe(service, view))
        # Published once the answer is sent (the server closes the response then): the
        # SQLite write is off the caller's wait. Its result is in the answer already, and
        # other readers see it a few milliseconds later.
        resp.call_on_close(publish)
        return resp
    return jsonify(describe(service, snapshot.read_service(service)))


@bp.get("/api/services/<slug>/history")
def service_history(slug: str):
    """The service's recorded state changes, newest first (``limit``, ``before`` = id)."""
    service = get_service(slug)
    limit, before = int_arg("limit", 50, 1, 500), int_arg("before", None, 1, 2**62)
    events = snapshot.history(service.slug, limit=limit, before=before)
    return jsonify({"service": service.slug,
                    "events": [e.to_dict(payload=False) for e in events]})


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


@bp.post("/api/services/<slug>/<action>")
def service_action(slug: str, action: str):
    """Run an allowed action; audited before the response, failures included."""
    service = get_service(slug)
    _check_action(service, action)
    if action not in READ_ACTIONS:
        _refuse_unless_allowed(service, action)
    if action == "status":
        return jsonify(describe(service, snapshot.read_service(service)))
    if action == "logs":
        return _runbook_logs(service)
    assert action in SYSTEMCTL_ACTIONS
    return _systemctl_action(service, action)


def _refuse_unless_allowed(service: ServiceConfig, action: str) -> None:
    """403 ``forbidden`` (audited) unless the caller may do ``action`` to ``service``."""
    if may_act(current_user(), service, action):
        return
    audit.record(action, success=False, service=service.slug, host=service.host,
                 error="forbidden")
    hint = ("Masking and unmasking need the admin role." if action in ADMIN_ACTIONS else
            "Actions need the operator role (and, where the service has an `allow` "
            "list, to be named in it).")
    raise ApiError(403, "forbidden",
                   f"{current_user().username} may not {action} {service.slug}", hint)


def _systemctl_action(service: ServiceConfig, action: str):
    """Audit, run ``systemctl ACTION UNIT``, publish the state it left behind, answer."""
    rt = runtime()
    slug, host = service.slug, rt.config.hosts[service.host]
    down = snapshot.host_down(snapshot.read_host(service.host),
                              fresh_within=DOWN_VERDICT_SECONDS)
    if down is not None:
        audit.record(action, success=False, service=slug, host=service.host, error=down.code,
                     output=down.message)
        return error_json(down, success=False, action=action, service=slug)
    entry = audit.begin(action, service=slug, host=service.host)
    cause = snapshot.Cause(entry, audit.current_actor(), action)
    db.session.commit()  # hold no database connection while waiting on the host
    try:
        result = run_action(rt.executor, host, service, action)
    except RemoteError as exc:
        audited = audit.finish_reliably(entry, success=False, error=exc.code,
                                        output=exc.message)
        return error_json(exc, success=False, action=action, service=slug, audit=audited)
    try:  # the state the action left behind, published before anyone is told
        observed_at = time.time()
        statuses = fetch_statuses(rt.executor, host, [service.unit])
        _publish([service], statuses, observed_at, cause)
    except RemoteError as exc:  # the monitor's next read (or signal) brings it
        log.warning("no status after %s of %s: %s", action, slug, exc.message)
    audited = audit.finish_reliably(entry, success=result.ok, exit_code=result.exit_code,
                                    duration_ms=result.duration_ms,
                                    error=None if result.ok else "action_failed",
                                    output=(result.stdout + result.stderr))
    body = {
        "success": result.ok, "action": action, "service": slug,
        "exit_code": result.exit_code, "stdout": result.stdout.strip(),
        "stderr": result.stderr.strip(), "duration_ms": result.duration_ms,
        "audit": audited, "status": describe(service, snapshot.read_service(service)),
    }
    if not result.ok:
        body.update(error="action_failed",
                    message=f"systemctl {action} {service.unit} exited {result.exit_code}",
                    hint="Read the service's logs for why it failed.")
    return jsonify(body)


def _runbook_logs(service: ServiceConfig):
    """``POST /api/services/<slug>/logs``: the runbook's last 50 lines, audited."""
    rt = runtime()
    try:
        lines = read_lines(rt.executor, rt.config.hosts[service.host], service, RUNBOOK_LINES)
    except RemoteError as exc:
        audit.record("logs", success=False, service=service.slug, host=service.host,
                     error=exc.code, output=exc.message)
        return error_json(exc, success=False, action="logs")
    audit.record("logs", success=True, service=service.slug, host=service.host)
    return jsonify({"success": True, "action": "logs", "service": service.slug,
                    "stdout": "\n".join(lines), "lines": lines})
