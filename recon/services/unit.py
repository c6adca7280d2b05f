"""``GET /api/services/<slug>/unit``: what an operator reads before acting on a unit.

The unit file as systemd loads it (``systemctl cat``), the dependencies that matter, every
property (``systemctl show``), the runbook's ``systemctl status`` text, and the service's
timer when the config names one. All read-only and unprivileged (no sudo); every argv is
built from the validated config, never from the request. Secrets in them (``Environment=``
values, command arguments, credentials) are hidden (:mod:`recon.services.redact`) unless an
admin asks about a service that sets ``reveal_secrets``. One read serves every caller of
the process for a few seconds (:mod:`recon.services.unit_reads`), and a caller's reads of
hosts are bounded (:mod:`recon.web.ratelimit`).
"""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import jsonify

from recon.config import HostConfig, ServiceConfig
from recon.db.extensions import db
from recon.services.calendar import calendar_specs, describe
from recon.services.redact import redact_file, redact_properties, redact_status
from recon.services.routes import bp
from recon.services.unit_reads import freshness, unit_reads
from recon.ssh import CommandResult, Executor, RemoteError
from recon.ssh.systemctl import _blocks, parse_timestamp
from recon.web.context import get_service, runtime
from recon.web.error_responses import error_json
from recon.web.policy import current_user
from recon.web.ratelimit import host_read

DEPENDENCIES = ("Requires", "Requisite", "Wants", "BindsTo", "PartOf", "After", "Before",
                "WantedBy", "RequiredBy", "Conflicts", "TriggeredBy", "Triggers")
TIMER_PROPERTIES = ("Id", "ActiveState", "UnitFileState", "NextElapseUSecRealtime",
                    "LastTriggerUSec", "Result", "TimersCalendar", "TimersMonotonic")


def unit_argvs(host: HostConfig, service: ServiceConfig) -> dict[str, list[str]]:
    """The read-only commands of the detail view (no sudo: systemd lets anyone read these)."""
    unit = service.unit
    argvs = {
        "cat": [host.systemctl, "cat", "--no-pager", unit],
        "show": [host.systemctl, "show", "--no-pager", unit],
        # --lines=0: the journal is the logs view's (and may need sudo); this is the summary.
        "status": [host.systemctl, "status", "--no-pager", "--full", "--lines=0", unit],
    }
    if service.timer:
        argvs["timer"] = [host.systemctl, "show", "--no-pager",
                          "--property=" + ",".join(TIMER_PROPERTIES), service.timer]
        argvs["timer_file"] = [host.systemctl, "cat", "--no-pager", service.timer]
    return argvs


def _iso(value: str | None) -> str | None:
    when = parse_timestamp(value)
    return when.isoformat().replace("+00:00", "Z") if when else None


def _timer(text: str, name: str) -> dict[str, Any]:
    props = (_blocks(text) or [{}])[0]
    return {"unit": name, "state": props.get("ActiveState") or None,
            "enabled": props.get("UnitFileState") or None,
            "found": props.get("LoadState", "loaded") != "not-found",
            "next": _iso(props.get("NextElapseUSecRealtime")),
            "next_raw": props.get("NextElapseUSecRealtime") or None,
            "last": _iso(props.get("LastTriggerUSec")),
            "last_raw": props.get("LastTriggerUSec") or None,
            "result": props.get("Result") or None,
            "calendar": props.get("TimersCalendar") or None,
            # The schedule in words ("every day at 03:00"), each spec as written otherwise.
            "schedule": [describe(s) for s in calendar_specs(props.get("TimersCalendar"))],
            "monotonic": props.get("TimersMonotonic") or None}


def reveals_secrets(service: ServiceConfig) -> bool:
    """Whether this caller sees the unit's secrets: an admin, where the service opts in."""
    return service.reveal_secrets and current_user().can("admin")


def _answer(service: ServiceConfig, argvs: dict[str, list[str]],
            results: dict[str, CommandResult]) -> dict[str, Any]:
    """The detail view of the host's answers, redacted unless :func:`reveals_secrets`."""
    reveal = reveals_secrets(service)
    props = (_blocks(results["show"].stdout) or [{}])[0]
    cat, status = results["cat"], results["status"]
    # systemctl status exits 3 for a stopped unit and 4 for a missing one: both normal.
    status_text = (status.stdout or status.stderr).rstrip("\n")
    return {
        "service": service.slug, "unit": service.unit, "host": service.host,
        "file": (cat.stdout if reveal else redact_file(cat.stdout)) if cat.ok else None,
        "file_error": None if cat.ok else (cat.stderr.strip() or f"exit {cat.exit_code}"),
        "dependencies": {k: props[k].split() for k in DEPENDENCIES if props.get(k)},
        "properties": props if reveal else redact_properties(props),
        "status_text": status_text if reveal else redact_status(status_text),
        "redacted": not reveal,
        "status_command": shlex.join(["systemctl", "status", service.unit]),
        "commands": {k: shlex.join(v) for k, v in argvs.items()},
        "timer": (_timer(results["timer"].stdout, service.timer) if service.timer
                  else None),
        "timer_file": _file(results.get("timer_file"), reveal),
    }


def _file(result: CommandResult | None, reveal: bool) -> str | None:
    """A ``systemctl cat`` of another unit (the timer), redacted like the unit's own file."""
    if result is None or not result.ok:
        return None
    return result.stdout if reveal else redact_file(result.stdout)


def _read(executor: Executor, host: HostConfig,
          argvs: dict[str, list[str]]) -> dict[str, CommandResult]:
    """Run the detail's commands on the host at once, within the caller's bound on reads
    (429 ``too_many_reads`` past it, nothing sent)."""
    with host_read(), ThreadPoolExecutor(max_workers=len(argvs)) as pool:
        futures = {k: pool.submit(executor.run, host, argv) for k, argv in argvs.items()}
        return {k: f.result() for k, f in futures.items()}


@bp.get("/api/services/<slug>/unit")
def service_unit(slug: str):
    """The unit's file, dependencies, properties, status text and timer (see module doc),
    read once for every caller of this process within a few seconds (see unit_reads)."""
    service = get_service(slug)
    rt = runtime()
    host = rt.config.hosts[service.host]
    argvs = unit_argvs(host, service)
    fresh = freshness(service.slug)
    db.session.commit()  # hold no database connection while waiting on the host
    try:
        results = unit_reads().get(service.slug, fresh,
                                   lambda: _read(rt.executor, host, argvs))
    except RemoteError as exc:
        return error_json(exc, service=slug)
    return jsonify(_answer(service, argvs, results))
