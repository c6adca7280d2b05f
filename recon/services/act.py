"""One audited systemctl action on one service: the sequence a single action
(``POST /api/services/<slug>/<action>``) and each step of a rolling action share.

:func:`act` runs it; its parts are public for callers that need one of them:

1. :func:`refuse_if_down`: a host the monitor saw down within ``DOWN_VERDICT_SECONDS`` is
   refused, and the refusal audited (nothing is sent).
2. :func:`begin`: the audit entry is opened (success unknown) and committed before anything
   is sent, so history events can name it as their cause.
3. No database connection is held while the host is waited on.
4. :func:`send`: ``systemctl ACTION UNIT`` over SSH.
5. The state the action left behind is published to the snapshot, naming the entry as its
   cause: one read by default; a rolling step passes ``after`` to wait for the unit and
   watch it settle instead.
6. :func:`finish`: the entry is closed with the outcome, reliably (retried while the
   database is locked, then handed to a thread).

Needs an app context, not a request: the route runs it inside its request, the rolling
runner from its background thread. The actor is given, never read from the request here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from recon.audit import store as audit
from recon.config import HostConfig, ServiceConfig
from recon.db.extensions import db
from recon.monitor import snapshot
from recon.ssh import Executor, RemoteError
from recon.ssh.systemctl import fetch_statuses, run_action
from recon.web.context import runtime

log = logging.getLogger("recon.services")
# A "host is down" verdict of the monitor older than this is not trusted to refuse an action.
DOWN_VERDICT_SECONDS = 60.0


@dataclass
class Outcome:
    """What an action came to: ok, or the error code and message it failed with.

    ``output`` is the command's stdout and stderr together (what the audit entry keeps);
    ``fault`` the host's error when the command could not be run (or the host was refused),
    for an answer with its status, hint and retry; ``refused`` says nothing was sent.
    ``audit_id`` and ``audited`` (``"recorded"`` or ``"deferred"``, see
    :func:`recon.audit.store.finish_reliably`) are set once the entry is closed; a refusal's
    entry is written whole at once, so its ``audited`` stays None.
    """

    ok: bool
    exit_code: int | None = None
    error: str | None = None
    message: str | None = None
    output: str = ""
    main_pid: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration_ms: float | None = None
    fault: RemoteError | None = None
    refused: bool = False
    audit_id: int | None = None
    audited: str | None = None


# Called with the outcome of a command that ran and the cause to publish its effects under;
# returns the outcome the audit entry is closed with.
After = Callable[[Outcome, snapshot.Cause], Outcome]
# Enters the database for one short block (an app context, or none inside a request).
Context = Callable[[], AbstractContextManager[Any]]


def down_verdict(host: str, *, down_for: float = 0.0) -> RemoteError | None:
    """The error to answer at once when the monitor saw ``host`` down recently enough to be
    trusted (and for at least ``down_for`` seconds); None when the host is to be tried."""
    return snapshot.host_down(snapshot.read_host(host), fresh_within=DOWN_VERDICT_SECONDS,
                              down_for=down_for)


def refuse_if_down(service: ServiceConfig, action: str, *, actor: str,
                   group_id: int | None = None) -> Outcome | None:
    """The refusal (audited, committed) when the service's host is down; None otherwise."""
    down = down_verdict(service.host)
    if down is None:
        return None
    entry = audit.record(action, success=False, service=service.slug, host=service.host,
                         error=down.code, output=down.message, actor=actor, group_id=group_id)
    return Outcome(False, error=down.code, message=down.message, fault=down, refused=True,
                   audit_id=entry.id)


def begin(service: ServiceConfig, action: str, *, actor: str,
          group_id: int | None = None) -> int:
    """Open the action's audit entry (committed: it exists before anything is sent)."""
    return audit.begin(action, service=service.slug, host=service.host, actor=actor,
                       group_id=group_id)


def send(executor: Executor, host: HostConfig, service: ServiceConfig, action: str) -> Outcome:
    """Run ``systemctl ACTION UNIT`` on the host: a non-zero exit is ``action_failed``, an
    SSH failure (sudo refusal included) its own code with the error in ``fault``."""
    try:
        result = run_action(executor, host, service, action)
    except RemoteError as exc:
        return Outcome(False, error=exc.code, message=exc.message, fault=exc)
    outcome = Outcome(result.ok, result.exit_code, output=result.stdout + result.stderr,
                      stdout=result.stdout, stderr=result.stderr,
                      duration_ms=result.duration_ms)
    if not result.ok:
        outcome.error = "action_failed"
        # systemctl's own reason ("Unit x.service is masked.") is what the reader needs: the
        # panel of a rolling step and the API's message say it, not only the audit trail.
        reason = " ".join(result.stderr.split())[:300]
        outcome.message = (f"systemctl {action} {service.unit} exited {result.exit_code}"
                           + (f": {reason}" if reason else ""))
    return outcome


def publish(services: Iterable[ServiceConfig], statuses: dict[str, dict[str, Any]],
            observed_at: float, cause: snapshot.Cause | None = None) -> None:
    """Store what was read on a host (it answered, so it is up, too). A busy database costs
    only this write: the monitor publishes the same state within seconds."""
    services = list(services)
    try:
        snapshot.publish_statuses(services, statuses, observed_at, cause)
    except sa.exc.OperationalError:
        db.session.rollback()
        log.warning("could not publish the status of %s: database busy",
                    ", ".join(s.slug for s in services))


def publish_left_state(executor: Executor, host: HostConfig, service: ServiceConfig,
                       action: str, cause: snapshot.Cause,
                       context: Context = nullcontext) -> None:
    """Read the unit once and publish what the action left behind (in ``context``); a host
    that does not answer leaves it to the monitor's next read (or signal)."""
    try:
        observed_at = time.time()
        statuses = fetch_statuses(executor, host, [service.unit])
    except RemoteError as exc:
        log.warning("no status after %s of %s: %s", action, service.slug, exc.message)
        return
    with context():
        publish([service], statuses, observed_at, cause)


def finish(entry_id: int, outcome: Outcome) -> Outcome:
    """Close the audit entry with ``outcome`` (the command's output, or else the reason it
    failed); returns the outcome with ``audit_id`` and ``audited`` set."""
    audited = audit.finish_reliably(entry_id, success=outcome.ok, exit_code=outcome.exit_code,
                                    duration_ms=outcome.duration_ms, error=outcome.error,
                                    output=outcome.output or outcome.message)
    return replace(outcome, audit_id=entry_id, audited=audited)


def act(service: ServiceConfig, action: str, *, actor: str, group_id: int | None = None,
        begun: Callable[[int], None] | None = None, after: After | None = None,
        context: Context = nullcontext) -> Outcome:
    """Run the whole sequence for one action (see the module's docstring); the outcome says
    whether it was refused, failed or done, and how its audit entry was closed.

    ``begun(entry_id)`` does the caller's own bookkeeping, committed right after the entry
    (which commits itself) and before the command is sent. ``after`` replaces the one read
    that publishes the state left behind (it is called only when the command ran).
    ``context`` enters the database: the caller's own context by default (a request); a
    background thread passes ``app.app_context`` so that it is inside one only while it
    uses the database.
    """
    with context():
        refused = refuse_if_down(service, action, actor=actor, group_id=group_id)
        if refused is not None:
            return refused
        entry_id = begin(service, action, actor=actor, group_id=group_id)
        if begun is not None:
            begun(entry_id)
        db.session.commit()  # hold no database connection while waiting on the host
        rt = runtime()
        executor, host = rt.executor, rt.config.hosts[service.host]
    cause = snapshot.Cause(entry_id, actor, action)
    outcome = send(executor, host, service, action)
    if outcome.fault is None:  # the command ran: what it left behind, before anyone is told
        if after is None:
            publish_left_state(executor, host, service, action, cause, context)
        else:
            outcome = after(outcome, cause)
    with context():
        return finish(entry_id, outcome)
