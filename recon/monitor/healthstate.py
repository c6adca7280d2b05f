"""A service's health: ``passing``, ``failing`` or ``unknown``, from its check's results.

The rule is Monit's "N failures in a row": a service that passes becomes ``failing`` after
``fail_after`` failed checks in a row, and a failing one ``passing`` again after
``recover_after`` passed checks in a row. A service not yet judged (``unknown``) passes at
its first good result -- there is nothing to recover from -- and fails like a passing one.
A check that could not be run at all (the host has no python3, the program is missing on
it: ``ok`` None) says nothing of the service: the state holds and the message says why.

Health is judged only while the unit runs: a stopped or failed unit fails every check, and
that is its state's story, not its health's. So the status of a unit that is not up carries
``health = "unknown"`` with the counts reset, and the next checks start afresh once it is up.

The state lives in the unit's status object, carried from read to read like a crash loop's
record (:mod:`recon.monitor.crashloop`): ``health`` (the word) and ``health_check`` (kind,
target, since, the counts, the rule's numbers and the ``last`` result: ok, status, latency
in ms, message, at). Pure functions: no database, no clock but the times given.
"""

from __future__ import annotations

from typing import Any

from recon.config import ServiceConfig
from recon.monitor.crashloop import _epoch
from recon.monitor.models import iso

UP_STATES = ("active", "reloading")
NOT_RUNNING = "not checked while the unit is not running"


def carry(old: dict[str, Any] | None, new: dict[str, Any], service: ServiceConfig,
          at: float) -> None:
    """Set ``new``'s health from ``old`` (the unit's previous status): carried while the unit
    stays up, ``unknown`` while it is not, absent for a service without a check."""
    check = service.health
    if check is None:
        new.pop("health", None)
        new.pop("health_check", None)
        return
    prev = (old or {}).get("health_check") or {}
    detail = {"kind": check.kind, "target": check.target(), "fail_after": check.fail_after,
              "recover_after": check.recover_after, "interval": check.interval,
              "fails": prev.get("fails", 0), "passes": prev.get("passes", 0),
              "since": prev.get("since"), "last": prev.get("last")}
    state = (old or {}).get("health") or "unknown"
    if new.get("state") not in UP_STATES:
        if state != "unknown":
            detail["since"] = iso(at)
        state = "unknown"
        detail.update(fails=0, passes=0, note=NOT_RUNNING)
    new["health"], new["health_check"] = state, detail


def apply(status: dict[str, Any], result: dict[str, Any], service: ServiceConfig,
          at: float) -> bool:
    """Record one check ``result`` (``ok`` True/False/None, ``status``, ``latency_ms``,
    ``message``) in ``status``; True when the health word changed."""
    check = service.health
    if check is None:
        return False
    carry(status, status, service, at)
    detail = status["health_check"]
    detail["last"] = {"ok": result.get("ok"), "status": result.get("status"),
                      "latency_ms": result.get("latency_ms"),
                      "message": str(result.get("message") or "")[:300], "at": iso(at)}
    if status.get("state") not in UP_STATES:
        return False  # read after the unit went down: its state tells the story
    detail.pop("note", None)
    before = status["health"]
    state = decide(before, detail, result.get("ok"), check.fail_after, check.recover_after)
    if state != before:
        detail["since"] = iso(at)
    status["health"] = state
    return state != before


def decide(state: str, counts: dict[str, Any], ok: bool | None, fail_after: int,
           recover_after: int) -> str:
    """The fail-after-N / recover-after-M rule: updates ``counts`` (``fails``, ``passes``:
    results in a row) and returns the new state."""
    if ok is None:
        return state
    if ok:
        counts["passes"], counts["fails"] = counts.get("passes", 0) + 1, 0
        if state == "unknown" or state == "failing" and counts["passes"] >= recover_after:
            return "passing"
        return state
    counts["fails"], counts["passes"] = counts.get("fails", 0) + 1, 0
    if state != "failing" and counts["fails"] >= fail_after:
        return "failing"
    return state


def settled_healthy(status: dict[str, Any], since: float) -> bool | None:
    """For a rolling step: True once a check run after ``since`` (epoch) passed and the
    service is ``passing``; False once it became ``failing`` after ``since``; None while it
    is to be seen (a service failing from before may be what the step is meant to fix)."""
    detail = status.get("health_check") or {}
    if status.get("health") == "failing" and (_epoch(detail.get("since")) or 0) >= since:
        return False
    last = detail.get("last") or {}
    at = _epoch(last.get("at"))
    if status.get("health") == "passing" and last.get("ok") and at is not None and at >= since:
        return True
    return None
