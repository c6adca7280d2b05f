"""The notifier: runs in the process that holds the monitor's lease, next to the supervisors.

One thread turns new ``monitor_event`` and audit rows into queued deliveries (rules in
:mod:`.rules`); the rows, the problems they change and the cursors are written in ONE
``BEGIN IMMEDIATE`` transaction, so a crash or a failover to another process neither loses
nor repeats an event. One thread per channel sends that channel's queue, retrying
with backoff (1, 2, 4 ... 300 s, ``max_attempts``) -- in order per unit or host, but a message
in back-off holds back no message about anything else, and a send that goes through
releases the others' back-off; a send is claimed in the database first,
so two processes never send the same row, and a claim left by a crashed process lapses and is
retried. Nothing here runs on a request's or a supervisor's thread.

The cursors only see changes, so a unit that was failed before a channel's cursor (the first
start of RECON, a channel just added) would never be told: each notifier therefore also
looks at every unit once, as its own term's first read saw it (:meth:`.Rules.standing`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Collection

import sqlalchemy as sa
from flask import Flask

from recon.audit import store as audit
from recon.audit.models import AuditEntry
from recon.config import SYSTEMCTL_ACTIONS, ReconConfig
from recon.config.notify import ChannelConfig
from recon.db.extensions import db
from recon.db.transactions import write_transaction
from recon.monitor.history import events_after
from recon.monitor.models import MonitorEvent, UnitState
from recon.notify.channels import DeliveryError, send
from recon.notify.models import (
    NotifyChannelState,
    NotifyCursor,
    NotifyDelivery,
    NotifyProblem,
)
from recon.notify.rules import Rules
from recon.web.context import runtime

log = logging.getLogger("recon.notify")
POLL_SECONDS = 0.1  # how often new events are looked for (one cheap read)
TICK_SECONDS = 0.5  # how often open problems are checked against the clock
STANDING_SECONDS = 1.0  # how often units not yet looked at (see Notifier) are asked for
BACKOFF_MAX = 300.0
PENDING_ACTION_SECONDS = 600  # an audit entry without an outcome older than this is skipped
NOT_BREAKAGE = ("forbidden", "action_not_allowed")  # refusals, not failures
PENDING_SCAN = 500  # pending deliveries of a channel looked at for the next due one


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``."""
    return min(2.0 ** max(attempts - 1, 0), BACKOFF_MAX)


def _cursor(session, name: str, start) -> NotifyCursor:
    row = session.get(NotifyCursor, name)
    if row is None:  # first run: start now, history is not announced
        row = NotifyCursor(name=name, position=start() or 0)
        session.add(row)
    return row


def process(config: ReconConfig, *, tick: bool = True, now: float | None = None,
            standing: Collection[str] = ()) -> int:
    """One pass: new events and audit rows to deliveries, plus the clock and the snapshot's
    rows of the ``standing`` services (see :meth:`.Rules.standing`); returns how many
    deliveries were queued. Call inside an app context."""
    now = time.time() if now is None else now
    with write_transaction() as session:
        rules = Rules(session, config, now)
        events = _cursor(session, "events", lambda: session.scalar(
            sa.select(sa.func.max(MonitorEvent.id))))
        for ev in events_after(events.position):
            rules.event(ev)
            events.position = ev.id
        actions = _cursor(session, "audit", lambda: session.scalar(
            sa.select(sa.func.max(AuditEntry.id))))
        cutoff = now - PENDING_ACTION_SECONDS
        for entry in session.scalars(sa.select(AuditEntry).where(
                AuditEntry.id > actions.position).order_by(AuditEntry.id).limit(500)):
            if (entry.success is None and entry.action in SYSTEMCTL_ACTIONS
                    and entry.at > cutoff):
                break  # still running: read again next time
            # (a rolling action's own entry stays open for the whole run; it is never told,
            # so it must not hold back the failures audited after it)
            if (entry.success is False and entry.action in SYSTEMCTL_ACTIONS
                    and entry.error not in NOT_BREAKAGE):
                rules.action(entry)
            actions.position = entry.id
        # after the events: a problem they opened in this pass is not opened twice
        if standing:
            for row in session.scalars(sa.select(UnitState).where(
                    UnitState.slug.in_(standing))):
                rules.standing(row)
        if tick:
            rules.tick()
        for m in rules.messages:
            session.add(NotifyDelivery(
                channel=m.channel, event=m.event, host=m.host, service=m.service,
                title=m.title, text=m.text, data=json.dumps(m.data, default=str),
                created_at=now, next_at=now))
        return len(rules.messages)


def _has_news() -> bool:
    cursors = {c.name: c.position for c in db.session.scalars(sa.select(NotifyCursor))}
    if len(cursors) < 2:
        return True
    newest = db.session.scalar(sa.select(sa.func.max(MonitorEvent.id))) or 0
    newest_audit = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
    return newest > cursors["events"] or newest_audit > cursors["audit"]


def record_outcome(name: str, ok: bool, error: str | None, *, now: float) -> None:
    """Count one attempt in the channel's state (for the API, the banner and /metrics)."""
    state = db.session.get(NotifyChannelState, name)
    if state is None:
        state = NotifyChannelState(name=name, sent=0, failed_attempts=0, given_up=0,
                                   failures_in_row=0)
        db.session.add(state)
    if ok:
        state.sent += 1
        state.failures_in_row, state.last_ok_at = 0, now
    else:
        state.failed_attempts += 1
        state.failures_in_row += 1
        state.last_error_at, state.last_error = now, error


def next_due(channel: str, now: float) -> NotifyDelivery | None:
    """The oldest pending delivery of ``channel`` that is due and unclaimed, passing over
    any whose subject (its service, else its host) has an older one still pending.

    So a fresh failure does not wait behind the retries of older messages about other
    things (a receiver that was down held every later message until the oldest's back-off
    ran out: a failure arrived 31 s late), while the messages about one unit or host still
    arrive in the order they happened ("failed" before "up again")."""
    rows = db.session.scalars(sa.select(NotifyDelivery).where(
        NotifyDelivery.channel == channel, NotifyDelivery.status == "pending")
        .order_by(NotifyDelivery.id).limit(PENDING_SCAN)).all()
    waiting: set[tuple[str | None, str | None]] = set()
    for row in rows:
        subject = (row.service, None) if row.service else (None, row.host)
        if subject in waiting:
            continue
        if row.next_at <= now and (row.claimed_until or 0) <= now:
            return row
        waiting.add(subject)
    return None


def deliver_next(channel: ChannelConfig, owner: str) -> bool:
    """Claim and send the next due delivery of ``channel`` (:func:`next_due`); True when
    one was attempted. Call inside an app context."""
    now = time.time()
    head = next_due(channel.name, now)
    db.session.commit()
    if head is None:
        return False
    with write_transaction() as session:
        row = session.get(NotifyDelivery, head.id)
        if row.status != "pending" or (row.claimed_until or 0) > now:
            return False  # another process took it
        row.claimed_by = owner
        row.claimed_until = now + channel.timeout * 3 + 30
        row.attempts += 1
        payload, attempt, delivery_id = row.payload(), row.attempts, row.id
    error: DeliveryError | None = None
    try:
        receipt = send(channel, payload)
    except DeliveryError as exc:
        error, receipt = exc, exc.message
    done = time.time()
    with write_transaction() as session:
        row = session.get(NotifyDelivery, delivery_id)
        row.claimed_by = row.claimed_until = None
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", done, None
            # The receiver answers again: what waits out a back-off from while it was down
            # goes now, in order, instead of minutes later.
            session.execute(sa.update(NotifyDelivery).where(
                NotifyDelivery.channel == channel.name, NotifyDelivery.status == "pending",
                NotifyDelivery.next_at > done).values(next_at=done))
        else:
            row.last_error = f"{error.code}: {error.message}"
            if attempt >= channel.max_attempts:
                row.status = "failed"
            else:
                row.next_at = done + backoff(attempt)
        record_outcome(channel.name, error is None, row.last_error, now=done)
        if error is not None and row.status == "failed":
            session.get(NotifyChannelState, channel.name).given_up += 1
    audit.record("notify", success=error is None, service=payload.get("service"),
                 host=payload.get("host"), error=error.code if error else None,
                 output=f"{payload['event']} #{delivery_id} attempt {attempt}: "
                        f"{payload['title']} -> {receipt}", actor=f"notify:{channel.name}")
    if error is not None:
        log.warning("notify %s: delivery %s attempt %s failed: %s", channel.name,
                    delivery_id, attempt, error.message)
    return True


class Notifier:
    """The threads of one lease holder (see the module's docstring)."""

    def __init__(self, app: Flask, owner: str, since: float | None = None):
        self.app, self.owner = app, owner
        self.config: ReconConfig = runtime(app).config
        # The services not yet looked at as this term's reads saw them. Why per unit, after a
        # read of our own (observed_at >= since), and not once at start: at start the
        # snapshot may be hours old (RECON was off) or lack units (a first start), and a
        # down host's units are only read when it is back; waiting for every unit would
        # hold the healthy hosts' news hostage to one down host. The problem row of each
        # channel is the memory across terms: a restart or failover looks again and finds it.
        self.since = time.time() if since is None else since
        self.unchecked: set[str] = set(self.config.services)
        self._standing_at = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Notifier:
        self._threads.append(threading.Thread(target=self._process_loop, daemon=True,
                                              name="recon-notify"))
        for ch in self.config.notify.values():
            self._threads.append(threading.Thread(target=self._deliver_loop, args=(ch,),
                                                  daemon=True, name=f"recon-notify-{ch.name}"))
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=2)

    def _read_since_start(self) -> list[str]:
        """The unchecked services the supervisors have read since this notifier started.
        Asked at most once a second: a host that stays down keeps its units unchecked, and
        this loop runs every POLL_SECONDS."""
        if not self.unchecked or time.monotonic() - self._standing_at < STANDING_SECONDS:
            return []
        self._standing_at = time.monotonic()
        return list(db.session.scalars(sa.select(UnitState.slug).where(
            UnitState.slug.in_(self.unchecked), UnitState.observed_at >= self.since)))

    def _process_loop(self) -> None:
        last_tick = 0.0
        while not self._stop.is_set():
            try:
                with self.app.app_context():
                    tick = time.monotonic() - last_tick >= TICK_SECONDS and bool(
                        db.session.scalar(sa.select(sa.func.count()).select_from(NotifyProblem)))
                    fresh = self._read_since_start()
                    if tick or fresh or _has_news():
                        # The running config (a reload may have changed its services).
                        if process(runtime(self.app).config, tick=tick, standing=fresh):
                            self._wake.set()
                        self.unchecked.difference_update(fresh)  # once committed
                        last_tick = time.monotonic() if tick else last_tick
            except Exception:  # a locked database must not end notifications
                log.exception("notify: could not process events")
            self._stop.wait(POLL_SECONDS)

    def _deliver_loop(self, channel: ChannelConfig) -> None:
        while not self._stop.is_set():
            try:
                with self.app.app_context():
                    busy = deliver_next(channel, self.owner)
            except Exception:
                log.exception("notify %s: delivery loop error", channel.name)
                busy = False
            if not busy:
                self._wake.wait(0.25)
                self._wake.clear()


def start(app: Flask, owner: str, since: float | None = None) -> Notifier | None:
    """Start the notifier threads (the monitor calls this when it becomes the lease holder,
    ``since`` the time before its supervisors' first reads); None when no channel is
    configured."""
    if not runtime(app).config.notify:
        return None
    return Notifier(app, owner, since).start()
