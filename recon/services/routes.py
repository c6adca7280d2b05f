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

from flask import Blueprint, Response, current_app, jsonify, request

from recon.audit import store as audit
from recon.config import ACTIONS, ADMIN_ACTIONS, SYSTEMCTL_ACTIONS, ServiceConfig
from recon.core.errors import ApiError, InvalidParameter
from recon.db.extensions import db
from recon.logs.journal import RUNBOOK_LINES, read_lines
from recon.monitor import history, snapshot
from recon.monitor.models import UnitState
from recon.services import act
from recon.services.fleet import COLUMNS, describe, fleet_view, joined
from recon.ssh import RemoteError
from recon.ssh.systemctl import fetch_statuses
from recon.web.context import get_service, runtime
from recon.web.error_responses import error_json
from recon.web.params import int_arg
from recon.web.policy import READ_ACTIONS, current_user, may_act

bp = Blueprint("services", __name__)
log = logging.getLogger("recon.services")
# A synchronous read is refused on the monitor's "down" verdict only once the host has been
# down this long (a blip, such as an sshd restart, is tried).
FRESH_DOWN_SECONDS = 3.0


@bp.get("/api/services")
def list_services():
    """Every service with its last observed status, and every host's state, from this
    process's copy of the snapshot; ``?view=compact``: each service as an array of values in
    ``columns`` order (no actions or tags), for a page that holds thousands. ``event_id``:
    the newest event the answer includes (``/api/events?after=`` resumes from it)."""
    rt = runtime()
    started = time.monotonic()
    view = request.args.get("view", "full")
    if view not in ("full", "compact"):
        raise InvalidParameter("view", "view must be full or compact",
                               "Omit it for the full view.")
    fleet = fleet_view(current_app._get_current_object())
    services, event_id = fleet.services(rt.config, compact=view == "compact")
    hosts = json.dumps(fleet.hosts(rt.config, refresh=False))
    head = f'{{"columns":{json.dumps(COLUMNS)},' if view == "compact" else "{"
    body = (f'{head}"services":{joined(services)},"hosts":{hosts},"event_id":{event_id},'
            f'"duration_ms":{round((time.monotonic() - started) * 1000, 2)}}}')
    return Response(body, mimetype="application/json")


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
                act.publish([service], statuses, observed_at)
        except Exception:  # the answer is gone already; the monitor's next read catches up
            log.exception("publishing the fresh status of %s failed", service.slug)

    # The host answered, so it is up: the view is the read itself, as the snapshot will be.
    row = UnitState(slug=service.slug, host=service.host, unit=service.unit,
                    status=json.dumps(statuses[service.unit], sort_keys=True),
                    observed_at=observed_at)
    return snapshot.service_view(service, row, None), publish


@bp.get("/api/services/<slug>/status")
def service_status(slug: str):
    """One service's status (the runbook's status check); ``?fresh=1`` reads the host now,
    within ``status_fresh_timeout`` (a host in back-off in this process answers at once)."""
    service = get_service(slug)
    if request.args.get("fresh") in ("1", "true", "yes"):
        # A host the monitor has found down for a while (not a blip such as an sshd
        # restart) answers at once, rather than after this worker's own connect timeout.
        down = act.down_verdict(service.host, down_for=FRESH_DOWN_SECONDS)
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
    return _stored_status(service)


def _stored_status(service: ServiceConfig) -> Response:
    """The service's status from this process's copy of the snapshot (the fleet call's)."""
    fleet = fleet_view(current_app._get_current_object())
    return Response(fleet.service(runtime().config, service), mimetype="application/json")


@bp.get("/api/services/<slug>/history")
def service_history(slug: str):
    """The service's recorded state changes, newest first (``limit``, ``before`` = id)."""
    service = get_service(slug)
    limit, before = int_arg("limit", 50, 1, 500), int_arg("before", None, 1, 2**62)
    events = history.history(service.slug, limit=limit, before=before)
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
        return _stored_status(service)
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
    """Run the audited action (:func:`recon.services.act.act`) and answer with its outcome
    and the state it left behind."""
    outcome = act.act(service, action, actor=audit.current_actor())
    slug = service.slug
    if outcome.fault is not None:
        audited = {} if outcome.refused else {"audit": outcome.audited}
        return error_json(outcome.fault, success=False, action=action, service=slug, **audited)
    body = {
        "success": outcome.ok, "action": action, "service": slug,
        "exit_code": outcome.exit_code, "stdout": outcome.stdout.strip(),
        "stderr": outcome.stderr.strip(), "duration_ms": outcome.duration_ms,
        "audit": outcome.audited, "status": describe(service, snapshot.read_service(service)),
    }
    if not outcome.ok:
        body.update(error=outcome.error, message=outcome.message,
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
