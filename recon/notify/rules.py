"""From monitor events to messages, without storms.

Per channel and subject (a unit or a host) one *problem* is kept open in SQLite:

- a unit that fails (state ``failed``, or a crash systemd is about to restart) opens one and
  is told at once (``unit_failed``); further failures while it is open are counted, and told
  once per ``group_seconds`` window ("failed 5 times in the last 10 min"); it is resolved
  (``unit_recovered``, with the count) once the unit stayed up ``resolve_seconds``;
- a host that goes down opens one that is told only if it is still down after
  ``for_seconds`` (``host_unreachable``); while it is open the host's unit events are
  suppressed (a host going down with 20 units is one message), and its return is told once
  (``host_back``) -- if it was told at all;
- a unit that is crash-looping (:mod:`recon.monitor.crashloop`) opens a second problem beside
  its failure, told at once (``unit_crash_looping``) and grouped like a failure ("crashed 12
  more times"); while it is open the unit's own failure is neither grouped nor resolved (one
  story, not two), and once the loop ends the failure resolves as usual (``unit_recovered``);
- a unit that fails its health check opens a ``health:`` problem (:mod:`.health`), told at
  once (``unit_unhealthy``), grouped, resolved as ``unit_recovered`` with ``health: true``;
- an action that failed (the audit trail) is told once (``action_failed``);
- a unit that was already failing before anyone was told (no event ever said it failed: it
  was failed when RECON first read it, or when a channel started watching) is told once as
  ``unit_failed`` "was already failed", with since when, and then behaves like any problem.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from recon.audit.models import AuditEntry
from recon.config import ReconConfig
from recon.config.notify import ChannelConfig
from recon.monitor.models import MonitorEvent, UnitState, iso
from recon.notify.health import PREFIX as HEALTH_PREFIX
from recon.notify.health import health_event, tick_health
from recon.notify.models import NotifyProblem
from recon.notify.wording import ago, clock, describe, epoch, last_exit

STALE_SECONDS = 3600.0  # older events (a notifier that was off) are not announced late
SEEN_LATER_SECONDS = 2.0  # a failure read this much later says when it was seen, too


@dataclass
class Message:
    """One notification, before it is queued for a channel."""

    channel: str
    event: str
    title: str
    text: str
    host: str | None = None
    service: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def happened_at(status: dict[str, Any], recorded: float) -> float:
    """When a unit's change happened: systemd's own time of it (``state_changed``) when it
    lies within ``STALE_SECONDS`` before the event was recorded, else the record's time. A
    change that nobody read at once -- its host's monitor moved to another process, or the
    host was unreachable -- is recorded when it is read, seconds or minutes later."""
    changed = epoch(status.get("state_changed"))
    if changed is None or not recorded - STALE_SECONDS <= changed <= recorded + 1:
        return recorded
    return min(changed, recorded)


def is_failing(status: dict[str, Any]) -> bool:
    """A failure: state ``failed``, or a crash systemd is about to restart."""
    return status.get("state") == "failed" or status.get("sub_state") == "auto-restart"


class Rules:
    """Applies one batch of events (and a clock tick) to the problems of every channel."""

    def __init__(self, session: Session, config: ReconConfig, now: float | None = None):
        self.session, self.config = session, config
        self.now = time.time() if now is None else now
        self.channels: list[ChannelConfig] = list(config.notify.values())
        self.messages: list[Message] = []
        self.suppressed = 0

    # -- problems ------------------------------------------------------------------------
    def _problem(self, channel: str, key: str) -> NotifyProblem | None:
        return self.session.get(NotifyProblem, (channel, key))

    def _emit(self, ch: ChannelConfig, event: str, title: str, text: str, *, host: str | None,
              service: str | None = None, **data: Any) -> None:
        svc_host = self.config.services[service].host if service in self.config.services else None
        if ch.wants(event, host=host, service=service, service_host=svc_host):
            self.messages.append(Message(ch.name, event, f"[RECON] {title}", text, host, service,
                                         data))

    def _host_down(self, channel: str, host: str) -> bool:
        return self._problem(channel, f"host:{host}") is not None

    # -- monitor events ------------------------------------------------------------------
    def event(self, ev: MonitorEvent) -> None:
        if ev.at < self.now - STALE_SECONDS:
            return
        for ch in self.channels:
            if ev.kind == "host":
                self._host_event(ch, ev)
            elif ev.service in self.config.services:
                self._unit_event(ch, ev)

    def _host_event(self, ch: ChannelConfig, ev: MonitorEvent) -> None:
        key, problem = f"host:{ev.host}", self._problem(ch.name, f"host:{ev.host}")
        if ev.to_state == "down":
            if problem is None:
                state = json.loads(ev.payload)
                self.session.add(NotifyProblem(
                    channel=ch.name, key=key, host=ev.host, service=None, opened_at=ev.at,
                    window_start=ev.at, reported=0,
                    detail=f"{state.get('error') or 'down'}: {state.get('message') or ''}"))
            return
        if problem is None:
            return
        if problem.reported:
            down = ev.at - problem.opened_at
            self._emit(ch, "host_back", f"resolved: {ev.host} is reachable again",
                       f"{ev.host} is reachable again after {ago(down)} (down since "
                       f"{clock(problem.opened_at)}; was: {problem.detail}).",
                       host=ev.host, resolved=True, down_seconds=round(down, 1))
        self.session.delete(problem)
        self.session.flush()

    def _unit_event(self, ch: ChannelConfig, ev: MonitorEvent) -> None:
        if self._host_down(ch.name, ev.host):
            self.suppressed += 1
            return
        status = json.loads(ev.payload)
        up = ev.to_state in ("active", "reloading") or (
            ev.to_state == "inactive" and status.get("result") == "success")
        problem = self._problem(ch.name, f"unit:{ev.service}")
        detail = describe(status)
        if is_failing(status):
            if problem is not None:
                if not problem.failing:
                    problem.count += 1
                    problem.failing, problem.cleared_at, problem.detail = True, None, detail
            elif ev.from_state is None:
                # RECON's first read of the unit: it did not fail now, it was failed already
                self._already_failed(ch, ev.service, ev.host, status, "RECON first read it",
                                     ev.at)
            else:
                self._open_unit(ch, ev.service, ev.host, status, ev.at)
                failed_at = happened_at(status, ev.at)
                seen = (f" (seen {clock(ev.at)})" if ev.at - failed_at >= SEEN_LATER_SECONDS
                        else "")
                self._emit(ch, "unit_failed", f"{ev.service} on {ev.host} failed",
                           f"{ev.service} ({status.get('unit')}) on {ev.host} failed at "
                           f"{clock(failed_at)}{seen}: {detail}.", host=ev.host,
                           service=ev.service, count=1, resolved=False,
                           unit=status.get("unit"), failed_at=iso(failed_at))
        elif up and problem is not None and problem.failing:
            problem.failing, problem.cleared_at = False, ev.at
        self._loop_event(ch, ev, status)
        health_event(self, ch, ev, status)  # its health check (notify.health)

    def _unit(self, service: str | None) -> str | None:
        svc = self.config.services.get(service or "")
        return svc.unit if svc else None

    def _loop_event(self, ch: ChannelConfig, ev: MonitorEvent, status: dict[str, Any]) -> None:
        """The crash-loop problem: opened and told when a read finds the unit crash-looping,
        counted while it crashes, closed when the unit stayed up a whole window."""
        key = f"loop:{ev.service}"
        loop = self._problem(ch.name, key)
        if not status.get("crash_looping"):
            if loop is not None:
                self.session.delete(loop)
                self.session.flush()
            return
        crash = status.get("crash") or {}
        if loop is not None:
            # Counted by the restarts the reads dated (a read rarely catches the unit between
            # two crashes, so failing/up transitions would miss most); ``cleared_at`` holds,
            # for a loop, the newest restart already counted.
            new = [t for t in crash.get("times", ()) if t > (loop.cleared_at or 0)]
            if new:
                loop.count += len(new)
                loop.cleared_at = max(new)
                loop.detail = f"{describe(status)}; last exit: {last_exit(crash)}"
            return
        window = crash.get("window_seconds") or 0
        self.session.add(NotifyProblem(
            channel=ch.name, key=key, host=ev.host, service=ev.service, opened_at=ev.at,
            window_start=ev.at, count=crash.get("count") or 1,
            reported=crash.get("count") or 1, failing=True, cleared_at=crash.get("last"),
            detail=f"{describe(status)}; last exit: {last_exit(crash)}"))
        self.session.flush()
        self._emit(ch, "unit_crash_looping", f"{ev.service} on {ev.host} is crash-looping",
                   f"{ev.service} ({status.get('unit')}) on {ev.host} is crash-looping: "
                   f"{crash.get('count')} automatic restarts within {ago(window)}, seen at "
                   f"{clock(ev.at)}; last exit: {last_exit(crash)}.", host=ev.host,
                   service=ev.service, unit=status.get("unit"), count=crash.get("count"),
                   window_seconds=window, last_exit=crash.get("last_exit"), resolved=False)

    def _open_unit(self, ch: ChannelConfig, service: str, host: str, status: dict[str, Any],
                   at: float, opened_at: float | None = None) -> None:
        self.session.add(NotifyProblem(
            channel=ch.name, key=f"unit:{service}", host=host, service=service,
            opened_at=opened_at or at, window_start=at, count=1, reported=1,
            detail=describe(status)))

    def _already_failed(self, ch: ChannelConfig, service: str, host: str,
                        status: dict[str, Any], when: str, at: float) -> None:
        """Open and tell the problem of a unit that no event saw fail."""
        # `since` is when the unit last became active; the failure is its last state change
        failed_at = epoch(status.get("state_changed")) or epoch(status.get("inactive_since"))
        started_at = epoch(status.get("since"))
        since = (f"failed for {ago(max(at - failed_at, 0))}, since {clock(failed_at)}"
                 if failed_at else "failed since an unknown time")
        if started_at:
            since += f"; last started {clock(started_at)}"
        # the problem opens when the unit failed, so "up again" tells the whole outage
        self._open_unit(ch, service, host, status, at, opened_at=failed_at)
        self._emit(ch, "unit_failed", f"{service} on {host} was already failed",
                   f"{service} ({status.get('unit')}) on {host} was already failed when "
                   f"{when} ({since}): {describe(status)}.", host=host, service=service,
                   count=1, resolved=False, unit=status.get("unit"), already_failed=True,
                   failed_since=status.get("state_changed"))

    def standing(self, row: UnitState) -> None:
        """A unit as the first read since the notifier started saw it: if it is failing and a
        channel has no problem for it (the event that said so came before the channel's
        cursor, or before the channel existed), that channel is told now."""
        status = row.status_dict()
        if row.slug not in self.config.services or not is_failing(status):
            return
        for ch in self.channels:
            if self._problem(ch.name, f"unit:{row.slug}") is not None:
                continue
            if self._host_down(ch.name, row.host):
                self.suppressed += 1
                continue
            self._already_failed(ch, row.slug, row.host, status,
                                 "this channel started watching", self.now)

    # -- the audit trail -----------------------------------------------------------------
    def action(self, entry: AuditEntry) -> None:
        service = self.config.services.get(entry.service or "")
        host = entry.host or (service.host if service else None)
        what = entry.error or (f"exit {entry.exit_code}" if entry.exit_code is not None
                               else "failed")
        for ch in self.channels:
            self._emit(ch, "action_failed",
                       f"{entry.action} of {entry.service} on {host} failed",
                       f"{entry.actor} ran {entry.action} on {entry.service} ({host}) at "
                       f"{clock(entry.at)}: {what}.", host=host, service=entry.service,
                       action=entry.action, actor=entry.actor, audit_id=entry.id,
                       error=entry.error, exit_code=entry.exit_code)

    # -- the clock -----------------------------------------------------------------------
    def tick(self) -> None:
        """Time-based steps: a host down long enough, a flapping window ending, a unit that
        stayed up long enough to be resolved."""
        names = {ch.name: ch for ch in self.channels}
        for problem in list(self.session.scalars(sa.select(NotifyProblem))):
            ch = names.get(problem.channel)
            if ch is None:  # the channel left the config
                self.session.delete(problem)
            elif problem.key.startswith("host:"):
                self._tick_host(ch, problem)
            elif problem.key.startswith("loop:"):
                self._tick_loop(ch, problem)
            elif problem.key.startswith(HEALTH_PREFIX):
                tick_health(self, ch, problem)
            else:
                self._tick_unit(ch, problem)

    def _tick_host(self, ch: ChannelConfig, p: NotifyProblem) -> None:
        if p.reported or self.now - p.opened_at < ch.for_seconds:
            return
        units = len(self.config.services_on(p.host))
        self._emit(ch, "host_unreachable", f"{p.host} is unreachable",
                   f"{p.host} is unreachable since {clock(p.opened_at)} ({p.detail}); its "
                   f"{units} service(s) are not monitored meanwhile.", host=p.host,
                   resolved=False, since=p.opened_at, services=units)
        p.reported = 1

    def _tick_loop(self, ch: ChannelConfig, p: NotifyProblem) -> None:
        """Once per ``group_seconds``: the crashes since the last message, if any."""
        if self.now - p.window_start < ch.group_seconds:
            return
        self._grouped(ch, p, "unit_crash_looping", "keeps crash-looping", "crashed")

    def _tick_unit(self, ch: ChannelConfig, p: NotifyProblem) -> None:
        if self._problem(ch.name, f"loop:{p.service}") is not None:
            return  # the crash loop tells this story (and its end lets the failure resolve)
        if not p.failing and p.cleared_at is not None and (
                self.now - p.cleared_at >= ch.resolve_seconds):
            span = ago(p.cleared_at - p.opened_at)
            times = f"failed {p.count} times in {span}" if p.count > 1 else "failed once"
            self._emit(ch, "unit_recovered", f"resolved: {p.service} on {p.host} is up again",
                       f"{p.service} on {p.host} is up again since {clock(p.cleared_at)} "
                       f"({times}, first at {clock(p.opened_at)}).", host=p.host,
                       service=p.service, unit=self._unit(p.service), count=p.count,
                       resolved=True)
            self.session.delete(p)
        elif self.now - p.window_start >= ch.group_seconds:
            self._grouped(ch, p, "unit_failed", "keeps failing", "failed")

    def _grouped(self, ch: ChannelConfig, p: NotifyProblem, event: str, title: str,
                 verb: str) -> None:
        """One message for what happened since the last one (if anything did), and a new
        grouping window."""
        if p.count > p.reported:
            new = p.count - p.reported
            self._emit(ch, event, f"{p.service} on {p.host} {title}",
                       f"{p.service} on {p.host} {verb} {new} more time(s) in the last "
                       f"{ago(self.now - p.window_start)} ({p.count} since "
                       f"{clock(p.opened_at)}; latest: {p.detail}).", host=p.host,
                       service=p.service, unit=self._unit(p.service), count=p.count,
                       grouped=new, resolved=False)
            p.reported = p.count
        p.window_start = self.now
