"""Health-check notifications: the ``health:SLUG`` problem of each channel.

A service whose check makes it ``failing`` (:mod:`recon.monitor.healthstate`: fail-after-N
already applied) opens a problem told at once (``unit_unhealthy``). While it is open, each
further fall from passing to failing (a flapping check) is counted and told once per
``group_seconds`` ("failed its check 3 more times"), like a unit's failures; it is resolved
(``unit_recovered`` with ``health: true``) once the check has passed ``resolve_seconds``.
A unit that stops or fails meanwhile has its health ``unknown``: neither cleared nor counted,
its own failure tells that story.
"""

from __future__ import annotations

from typing import Any

from recon.config.notify import ChannelConfig
from recon.monitor.models import MonitorEvent
from recon.notify.models import NotifyProblem
from recon.notify.wording import ago, clock

PREFIX = "health:"


def _last(status: dict[str, Any]) -> str:
    detail = status.get("health_check") or {}
    last = detail.get("last") or {}
    what = last.get("message") or "no result"
    latency = last.get("latency_ms")
    return f"{what}" + (f" in {latency:g} ms" if isinstance(latency, (int, float)) else "")


def health_event(rules: Any, ch: ChannelConfig, ev: MonitorEvent,
                 status: dict[str, Any]) -> None:
    """Apply one unit event's health to ``ch``'s health problem of the service."""
    health = status.get("health")
    if health is None:
        return
    key = PREFIX + (ev.service or "")
    problem: NotifyProblem | None = rules.session.get(NotifyProblem, (ch.name, key))
    detail = status.get("health_check") or {}
    if health == "failing":
        if problem is not None:
            if not problem.failing:
                problem.count += 1
                problem.failing, problem.cleared_at = True, None
            problem.detail = _last(status)
            return
        rules.session.add(NotifyProblem(
            channel=ch.name, key=key, host=ev.host, service=ev.service, opened_at=ev.at,
            window_start=ev.at, count=1, reported=1, failing=True, detail=_last(status)))
        rules.session.flush()
        rules._emit(ch, "unit_unhealthy", f"{ev.service} on {ev.host} fails its health check",
                    f"{ev.service} ({status.get('unit')}) on {ev.host} is running but fails "
                    f"its {detail.get('kind')} check of {detail.get('target')} since "
                    f"{clock(ev.at)} ({detail.get('fail_after')} failed in a row; last: "
                    f"{_last(status)}).", host=ev.host, service=ev.service,
                    unit=status.get("unit"), count=1, resolved=False,
                    check=detail.get("kind"), target=detail.get("target"),
                    last=detail.get("last"))
    elif health == "passing" and problem is not None and problem.failing:
        problem.failing, problem.cleared_at = False, ev.at


def tick_health(rules: Any, ch: ChannelConfig, p: NotifyProblem) -> None:
    """Time-based steps of a health problem: resolved once passing ``resolve_seconds``,
    else the falls of the last ``group_seconds`` told in one message."""
    if not p.failing and p.cleared_at is not None and (
            rules.now - p.cleared_at >= ch.resolve_seconds):
        times = f"failed {p.count} times" if p.count > 1 else "failed"
        rules._emit(ch, "unit_recovered",
                    f"resolved: {p.service} on {p.host} passes its health check again",
                    f"{p.service} on {p.host} passes its health check again since "
                    f"{clock(p.cleared_at)} (it {times}, first at {clock(p.opened_at)}, "
                    f"{ago(p.cleared_at - p.opened_at)} before).", host=p.host,
                    service=p.service, unit=rules._unit(p.service), count=p.count,
                    resolved=True, health=True)
        rules.session.delete(p)
    elif rules.now - p.window_start >= ch.group_seconds:
        rules._grouped(ch, p, "unit_unhealthy", "keeps failing its health check",
                       "failed its health check")
