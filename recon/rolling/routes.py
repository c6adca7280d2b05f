"""``/api/actions``: start, follow and cancel a rolling action across several services.

``POST {action, services: [slugs] | tag | host, settle_seconds?, batch_hosts?,
pause_seconds?}`` checks every service as a
single action would (the action listed in its ``actions``, the caller's role and its ``allow``
list, its host not down) and refuses the whole run when any fails: a bad request changes
nothing.
The run, its steps and its group audit entry are written before the answer (202); a
background thread then does the steps (see :mod:`.runner`).
``DELETE /api/actions/<id>`` cancels it, for its actor, an admin, or someone who may act on
every step it has not done yet; anyone else gets a 403 (audited) and the run goes on.
"""

from __future__ import annotations

import math
import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request, url_for

from recon.audit import store as audit
from recon.config import ServiceConfig
from recon.config.settings import SETTING_RANGES
from recon.core.errors import ApiError, InvalidBody, NotFound
from recon.db import ids
from recon.db.extensions import db
from recon.rolling import runner
from recon.rolling.models import RollingRun, RollingStep
from recon.services import act
from recon.web.context import runtime
from recon.web.policy import current_user, may_act, require_role

bp = Blueprint("rolling", __name__)
# Actions that leave the unit active, so "wait until it is active again" means something.
ROLLING_ACTIONS = ("restart", "reload", "start")
MAX_SERVICES = 500


def _refuse(status: int, code: str, message: str, hint: str, action: str | None = None,
            **extra: Any) -> ApiError:
    """An ApiError for a refused run, audited as one entry (nothing else was written)."""
    if action is not None:
        audit.record(f"rolling.{action}", success=False, error=code, output=message)
    return ApiError(status, code, message, hint, **extra)


def _select(body: dict[str, Any], action: str) -> tuple[list[ServiceConfig], str]:
    """The services the body names, grouped by host (hosts in order of first appearance)."""
    config = runtime().config
    given = [k for k in ("services", "tag", "host") if body.get(k) not in (None, "", [])]
    if len(given) != 1:
        raise _refuse(400, "invalid_selection",
                      "name the services with exactly one of `services`, `tag` or `host`",
                      'Send e.g. {"action": "restart", "tag": "web"}.', action)
    key = given[0]
    if key == "services":
        slugs = body["services"]
        if (not isinstance(slugs, list) or len(slugs) > MAX_SERVICES
                or not all(isinstance(s, str) for s in slugs)):
            raise _refuse(400, "invalid_parameter",
                          f"`services` must be a list of at most {MAX_SERVICES} slugs",
                          "GET /api/services lists them.", action, parameter="services")
        unknown = [s for s in slugs if s not in config.services]
        if unknown:
            raise _refuse(404, "unknown_service", f"no service with slug {unknown[0]!r}",
                          "GET /api/services lists the configured services.", action,
                          services=unknown[:20])
        chosen, label = [config.services[s] for s in dict.fromkeys(slugs)], "services"
    else:
        value = body[key]
        known = ({t for s in config.services.values() for t in s.tags} if key == "tag"
                 else set(config.hosts))
        if not isinstance(value, str) or value not in known:
            raise _refuse(404, f"unknown_{key}", f"no {key} named {str(value)[:64]!r}",
                          f"Use one of: {', '.join(sorted(known)) or '(none)'}.", action)
        chosen = [s for s in config.services.values()
                  if (value in s.tags if key == "tag" else s.host == value)]
        label = f"{key}:{value}"
    if not chosen:
        raise _refuse(400, "empty_selection", f"{label} names no service",
                      "Pick at least one service.", action)
    hosts = list(dict.fromkeys(s.host for s in chosen))
    return sorted(chosen, key=lambda s: hosts.index(s.host)), label


def _settle_seconds(body: dict[str, Any], action: str) -> float:
    """The run's settle time: the request's ``settle_seconds`` (same range as the setting) or
    ``rolling_settle_seconds``."""
    value = body.get("settle_seconds")
    if value is None:
        return runtime().config.settings.rolling_settle_seconds
    low, high = SETTING_RANGES["rolling_settle_seconds"]
    # bool is an int to Python, but `true` seconds is a client bug, not 1 s.
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not low <= value <= high):
        raise _refuse(400, "invalid_parameter",
                      f"`settle_seconds` must be a number of seconds from {low:g} to {high:g}",
                      "Leave it out to use rolling_settle_seconds from recon.toml, or send "
                      'e.g. "settle_seconds": 10.', action, parameter="settle_seconds")
    return float(value)


BATCH_HOSTS = (1, 50)
PAUSE_SECONDS = (0.0, 3600.0)


def _batching(body: dict[str, Any], action: str) -> tuple[int, float]:
    """The run's ``batch_hosts`` (hosts at once, 1-50, default 1) and ``pause_seconds``
    between batches (0-3600, default 0)."""
    batch = body.get("batch_hosts", 1)
    if isinstance(batch, bool) or not isinstance(batch, int) or not (
            BATCH_HOSTS[0] <= batch <= BATCH_HOSTS[1]):
        raise _refuse(400, "invalid_parameter",
                      f"`batch_hosts` must be a whole number of hosts from {BATCH_HOSTS[0]} "
                      f"to {BATCH_HOSTS[1]}", 'Leave it out for one host at a time, or send '
                      'e.g. "batch_hosts": 2.', action, parameter="batch_hosts")
    pause = body.get("pause_seconds", 0)
    if isinstance(pause, bool) or not isinstance(pause, (int, float)) or not (
            PAUSE_SECONDS[0] <= pause <= PAUSE_SECONDS[1]):
        raise _refuse(400, "invalid_parameter",
                      f"`pause_seconds` must be a number of seconds from {PAUSE_SECONDS[0]:g} "
                      f"to {PAUSE_SECONDS[1]:g}", 'Leave it out for no pause, or send e.g. '
                      '"pause_seconds": 30.', action, parameter="pause_seconds")
    return batch, float(pause)


def _check(services: list[ServiceConfig], action: str) -> None:
    """The rules of a single action, for every service; the first refusal refuses all."""
    user = current_user()
    not_listed = [s.slug for s in services if action not in s.actions]
    if not_listed:
        raise _refuse(403, "action_not_allowed",
                      f"{action} is not allowed for {', '.join(not_listed[:5])}",
                      "Leave those services out, or add the action to their `actions` in "
                      "recon.toml (and to the host's sudoers drop-in).", action,
                      services=not_listed)
    forbidden = [s.slug for s in services if not may_act(user, s, action)]
    if forbidden:
        raise _refuse(403, "forbidden",
                      f"{user.username} may not {action} {', '.join(forbidden[:5])}",
                      "Those services name who may act on them (`allow`); leave them out.",
                      action, services=forbidden)
    for name in dict.fromkeys(s.host for s in services):
        down = act.down_verdict(name)
        if down is not None:
            audit.record(f"rolling.{action}", success=False, host=name, error=down.code,
                         output=down.message)
            raise ApiError(down.status, down.code, down.message,
                           f"{name} is down: leave its services out, or wait until the "
                           "dashboard shows it up.", host=name)
    busy = db.session.scalars(
        sa.select(RollingStep.service).join(RollingRun, RollingStep.run_id == RollingRun.id)
        .where(RollingRun.state == "running",
               RollingStep.service.in_([s.slug for s in services]))).all()
    if busy:
        raise _refuse(409, "rolling_in_progress",
                      f"a rolling action already includes {', '.join(sorted(set(busy))[:5])}",
                      "Wait for it to finish or cancel it (DELETE /api/actions/<id>).",
                      action, services=sorted(set(busy)))


@bp.post("/api/actions")
@require_role("operator")
def start_run():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidBody("the body must be a JSON object",
                          'Send e.g. {"action": "restart", "services": ["web1-demo-web"]}.')
    action = body.get("action")
    if action not in ROLLING_ACTIONS:
        raise ApiError(400, "unknown_action", f"{str(action)[:40]!r} is not a rolling action",
                       f"Use one of: {', '.join(ROLLING_ACTIONS)}.")
    settle = _settle_seconds(body, action)
    batch, pause = _batching(body, action)
    services, label = _select(body, action)
    _check(services, action)
    now = time.time()
    run = RollingRun(action=action, actor=audit.current_actor(), selection=label,
                     state="running", created_at=now, heartbeat_at=now,
                     settle_seconds=settle, batch_hosts=batch, pause_seconds=pause)
    db.session.add(run)
    db.session.flush()
    for i, svc in enumerate(services):
        db.session.add(RollingStep(run_id=run.id, position=i, service=svc.slug, host=svc.host,
                                   unit=svc.unit, state="pending"))
    hosts = list(dict.fromkeys(s.host for s in services))
    entry = audit.record(f"rolling.{action}", success=None, group_id=run.id,
                         output=f"{len(services)} services on {', '.join(hosts)}: "
                                + ", ".join(s.slug for s in services))
    run.audit_id = entry.id
    db.session.commit()
    run_id = run.id
    runner.start(current_app._get_current_object(), run_id)
    resp = jsonify(_view(db.session.get(RollingRun, run_id)))
    resp.headers["Location"] = url_for("rolling.get_run", run_id=run_id)
    return resp, 202


def _view(run: RollingRun) -> dict[str, Any]:
    """The run as stored (a run whose process died is ended by the monitor leader's repair,
    recon.jobs.repair, not by a read)."""
    steps = list(db.session.scalars(sa.select(RollingStep).where(RollingStep.run_id == run.id)
                                    .order_by(RollingStep.position)))
    return run.to_dict(steps)


def _get(run_id: int) -> RollingRun:
    run = db.session.get(RollingRun, run_id) if ids.can_exist(run_id) else None
    if run is None:
        raise NotFound("run", f"no rolling action with id {run_id}",
                       "GET /api/actions lists the recent ones.")
    return run


@bp.get("/api/actions")
def list_runs():
    """The 20 newest rolling actions, newest first."""
    runs = db.session.scalars(sa.select(RollingRun).order_by(RollingRun.id.desc()).limit(20))
    return jsonify({"actions": [_view(r) for r in runs]})


@bp.get("/api/actions/<int:run_id>")
def get_run(run_id: int):
    return jsonify(_view(_get(run_id)))


def _check_cancel(run: RollingRun) -> None:
    """A run may be cancelled by its actor, an admin, or someone who may do its action on
    every step not yet done (a cancel decides what happens to them); anyone else is refused,
    audited, and the run goes on."""
    user = current_user()
    if user.username == run.actor or user.can("admin"):
        return
    services = runtime().config.services
    remaining = db.session.scalars(
        sa.select(RollingStep.service).where(RollingStep.run_id == run.id,
                                             RollingStep.state.in_(("pending", "running")))
        .order_by(RollingStep.position)).all()
    # A service no longer configured: only the actor or an admin may decide for it.
    forbidden = [s for s in remaining
                 if s not in services or not may_act(user, services[s], run.action)]
    if forbidden:
        message = (f"{user.username} may not cancel rolling action {run.id}: it would stop "
                   f"{run.action} on {', '.join(forbidden[:5])}, which they may not act on")
        audit.record(f"rolling.{run.action}.cancel", success=False, group_id=run.id,
                     error="forbidden", output=message)
        raise ApiError(403, "forbidden", message,
                       f"Ask {run.actor} (who started it) or an admin to cancel it.",
                       services=forbidden)


@bp.delete("/api/actions/<int:run_id>")
@require_role("operator")
def cancel_run(run_id: int):
    """Ask the runner to stop: the running step finishes, the rest is skipped."""
    run = _get(run_id)
    if run.state != "running":
        raise ApiError(409, "run_finished", f"rolling action {run_id} already {run.state}",
                       "Only a running action can be cancelled.", state=run.state)
    _check_cancel(run)
    if not run.cancel_requested:
        run.cancel_requested, run.cancelled_by = True, audit.current_actor()
        audit.record(f"rolling.{run.action}.cancel", success=True, group_id=run.id)
    return jsonify(_view(run)), 202
