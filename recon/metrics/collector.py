"""The gauges and counters derived from RECON's shared state at scrape time.

Everything here is read from SQLite (the monitor's snapshot, the audit trail, the held
request slots, the notifier's tables), so every worker answers a scrape the same way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from recon.audit.models import AuditEntry
from recon.config import SYSTEMCTL_ACTIONS, ReconConfig
from recon.db.extensions import db
from recon.monitor import sharing, snapshot
from recon.monitor.models import HostLease, HostState, MonitorEvent
from recon.notify.models import NotifyChannelState, NotifyCursor, NotifyDelivery
from recon.terminals.models import TerminalSession
from recon.web.slots import HeldSlot

UNIT_STATES = ("active", "reloading", "inactive", "failed", "activating", "deactivating",
               "unreachable", "unknown")
HOST_STATES = ("up", "degraded", "down", "pending")


def collect(config: ReconConfig, now: float | None = None) -> list[Metric]:
    """Every derived metric family, read now (inside an app context)."""
    now = time.time() if now is None else now
    return [*_units(config), *_hosts(config, now), *_monitor(now), *_watching(config, now),
            *_actions(), *_streams(), *_notify(config)]


def _units(config: ReconConfig) -> Iterator[Metric]:
    state = GaugeMetricFamily("recon_unit_state", "1 for the unit's current state (from the "
                              "monitor's snapshot; unreachable while its host is down), "
                              "0 for the others.", labels=["host", "service", "unit", "state"])
    restarts = GaugeMetricFamily("recon_unit_restarts", "systemd's NRestarts of the unit "
                                 "(reset when the unit is restarted by hand).",
                                 labels=["host", "service", "unit"])
    looping = GaugeMetricFamily("recon_unit_crash_looping", "1 while systemd keeps restarting "
                                "the unit (crash_loop_restarts automatic restarts within "
                                "crash_loop_window_seconds, until it stays up a whole window).",
                                labels=["host", "service", "unit"])
    health = GaugeMetricFamily("recon_unit_health", "1 for the state of the service's health "
                               "check (passing, failing, unknown), 0 for the others; only "
                               "services with a check.",
                               labels=["host", "service", "unit", "state"])
    latency = GaugeMetricFamily("recon_unit_health_latency_seconds", "How long the service's "
                                "last health check took on its host.",
                                labels=["host", "service", "unit"])
    statuses, _ = snapshot.read_fleet(config)
    for svc in config.services.values():
        status = statuses[svc.slug]
        current = status.get("state") if status.get("state") in UNIT_STATES else "unknown"
        for s in UNIT_STATES:
            state.add_metric([svc.host, svc.slug, svc.unit, s], 1.0 if s == current else 0.0)
        if status.get("restarts") is not None:
            restarts.add_metric([svc.host, svc.slug, svc.unit], float(status["restarts"]))
        looping.add_metric([svc.host, svc.slug, svc.unit],
                           1.0 if status.get("crash_looping") else 0.0)
        if svc.health is not None:
            word = status.get("health") or "unknown"
            for s in ("passing", "failing", "unknown"):
                health.add_metric([svc.host, svc.slug, svc.unit, s], 1.0 if s == word else 0.0)
            last = (status.get("health_check") or {}).get("last") or {}
            if isinstance(last.get("latency_ms"), (int, float)):
                latency.add_metric([svc.host, svc.slug, svc.unit], last["latency_ms"] / 1000)
    yield from (state, restarts, looping, health, latency)


def _hosts(config: ReconConfig, now: float) -> Iterator[Metric]:
    up = GaugeMetricFamily("recon_host_up", "1 while the monitor reaches the host.",
                           labels=["host"])
    state = GaugeMetricFamily("recon_host_state", "1 for the host's current state.",
                              labels=["host", "state"])
    seen = GaugeMetricFamily("recon_host_last_seen_age_seconds",
                             "Seconds since the host last answered anything, keepalive replies "
                             "included (NaN: never).",
                             labels=["host"])
    checked = GaugeMetricFamily("recon_host_check_age_seconds",
                                "Seconds since the monitor last tried the host.",
                                labels=["host"])
    refusing = GaugeMetricFamily("recon_host_sshd_refusing", "1 while the host's sshd takes "
                                 "no new connections (the banner probe) although RECON's open "
                                 "connection still works.", labels=["host"])
    rows = {r.name: r for r in db.session.scalars(sa.select(HostState))}
    for name in config.hosts:
        row = rows.get(name)
        current = row.state if row is not None else "pending"
        up.add_metric([name], 1.0 if current in ("up", "degraded") else 0.0)
        for s in HOST_STATES:
            state.add_metric([name, s], 1.0 if s == current else 0.0)
        last = row.last_seen if row is not None else None
        seen.add_metric([name], now - last if last else math.nan)
        checked.add_metric([name], now - row.checked_at if row is not None else math.nan)
        refusing.add_metric([name], 1.0 if row is not None and row.error == "sshd_refusing"
                            else 0.0)
    yield from (up, state, seen, checked, refusing)


def _monitor(now: float) -> Iterator[Metric]:
    newest_id, newest_at = db.session.execute(sa.select(
        sa.func.max(MonitorEvent.id), sa.func.max(MonitorEvent.at))).one()
    cursor = db.session.get(NotifyCursor, "events")
    pending = 0.0
    lag = 0.0
    if cursor is not None and newest_id:
        pending = float(max(newest_id - cursor.position, 0))
        oldest = db.session.scalar(sa.select(sa.func.min(MonitorEvent.at)).where(
            MonitorEvent.id > cursor.position))
        lag = max(now - oldest, 0.0) if oldest else 0.0
    yield GaugeMetricFamily("recon_monitor_event_lag_seconds", "Age of the oldest monitor "
                            "event the notifier has not read yet (0 when caught up).",
                            value=lag)
    yield GaugeMetricFamily("recon_monitor_events_unread", "Monitor events the notifier has "
                            "not read yet.", value=pending)
    yield GaugeMetricFamily("recon_monitor_last_event_timestamp_seconds", "When the newest "
                            "monitor event happened (epoch; NaN: none kept).",
                            value=newest_at if newest_at else math.nan)


def _watching(config: ReconConfig, now: float) -> Iterator[Metric]:
    watch = sharing.watch_states(config.hosts, now)
    watched = GaugeMetricFamily("recon_host_watched", "1 while a RECON process watches the "
                                "host (a live lease and a supervisor that reports on time).",
                                labels=["host"])
    for name, w in watch.items():
        watched.add_metric([name], 1.0 if w.watched else 0.0)
    yield watched
    yield GaugeMetricFamily("recon_hosts_not_watched", "Configured hosts no RECON process "
                            "watches now.", value=float(sum(not w.watched
                                                            for w in watch.values())))
    owners = {w.owner for w in watch.values() if w.watched}
    yield GaugeMetricFamily("recon_monitor_processes", "RECON processes watching hosts now.",
                            value=float(len(owners)))
    restarts = db.session.scalar(sa.select(sa.func.sum(HostLease.restarts))) or 0
    yield CounterMetricFamily("recon_monitor_supervisor_restarts", "Restarts of host "
                              "supervisors after an unexpected error, under their current "
                              "owners (drops when a host moves to another process).",
                              value=float(restarts))


def _actions() -> Iterator[Metric]:
    family = CounterMetricFamily("recon_actions", "Service actions in the audit trail, by "
                                 "outcome (ok, failed, pending); drops when old audit rows "
                                 "are pruned.", labels=["service", "action", "outcome"])
    outcome = sa.case((AuditEntry.success.is_(None), "pending"),
                      (AuditEntry.success.is_(True), "ok"), else_="failed")
    rows = db.session.execute(
        sa.select(AuditEntry.service, AuditEntry.action, outcome, sa.func.count())
        .where(AuditEntry.action.in_(SYSTEMCTL_ACTIONS))
        .group_by(AuditEntry.service, AuditEntry.action, outcome)).all()
    for service, action, result, count in rows:
        family.add_metric([service or "", action, result], float(count))
    yield family


def _streams() -> Iterator[Metric]:
    terminals = db.session.scalar(sa.select(sa.func.count()).select_from(TerminalSession)
                                  .where(TerminalSession.status != "closed")) or 0
    logs = db.session.scalar(sa.select(sa.func.count()).select_from(HeldSlot)
                             .where(HeldSlot.kind == "log")) or 0
    yield GaugeMetricFamily("recon_terminals_open", "Browser terminal sessions not closed "
                            "(all workers).", value=float(terminals))
    yield GaugeMetricFamily("recon_log_streams_open", "Live log streams open (all workers).",
                            value=float(logs))


def _notify(config: ReconConfig) -> Iterator[Metric]:
    deliveries = CounterMetricFamily("recon_notify_deliveries", "Notification delivery "
                                     "attempts by channel and outcome (sent, failed: an attempt "
                                     "that failed, given_up: out of attempts).",
                                     labels=["channel", "outcome"])
    queued = GaugeMetricFamily("recon_notify_queued", "Notifications waiting to be sent.",
                               labels=["channel"])
    failing = GaugeMetricFamily("recon_notify_failures_in_row", "Failed delivery attempts "
                                "since the channel's last success.", labels=["channel"])
    states = {s.name: s for s in db.session.scalars(sa.select(NotifyChannelState))}
    pending = dict(db.session.execute(
        sa.select(NotifyDelivery.channel, sa.func.count())
        .where(NotifyDelivery.status == "pending").group_by(NotifyDelivery.channel)).all())
    for name in config.notify:
        s = states.get(name)
        deliveries.add_metric([name, "sent"], float(s.sent if s else 0))
        deliveries.add_metric([name, "failed"], float(s.failed_attempts if s else 0))
        deliveries.add_metric([name, "given_up"], float(s.given_up if s else 0))
        queued.add_metric([name], float(pending.get(name, 0)))
        failing.add_metric([name], float(s.failures_in_row if s else 0))
    yield from (deliveries, queued, failing)
