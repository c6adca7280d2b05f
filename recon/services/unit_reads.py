"""A unit's detail read from its host, shared by every user of the process.

Concurrent requests for one unit wait for one read; its answer is kept :data:`KEEP_SECONDS`
for everyone. A kept read is dropped as soon as the service's *freshness* differs from when
it was read: its last audit entry (an action begun or ended on it, by any process: a rolling
step included) or its last recorded state change. Both are in the database, so an action
answered by one gunicorn worker also refreshes what the other keeps; a change seen by no
one is at most :data:`KEEP_SECONDS` old.

What is kept is the host's text as it came; redaction is per caller, after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask import Flask

from recon.audit.models import AuditEntry
from recon.db.extensions import db
from recon.monitor.models import MonitorEvent
from recon.web.context import per_app
from recon.web.ratelimit import TooManyReads

KEEP_SECONDS = 3.0
T = TypeVar("T")
Freshness = tuple[Any, ...]


def freshness(slug: str) -> Freshness:
    """What a kept read of ``slug`` must still match: its newest audit entry (and whether
    that action is still running) and its newest state change."""
    last = db.session.execute(
        sa.select(AuditEntry.id, AuditEntry.success).where(AuditEntry.service == slug)
        .order_by(AuditEntry.id.desc()).limit(1)).first()
    event = db.session.scalar(
        sa.select(sa.func.max(MonitorEvent.id)).where(MonitorEvent.service == slug))
    return (last.id if last else None, last is not None and last.success is None, event)


@dataclass(frozen=True)
class _Kept(Generic[T]):
    fresh: Freshness
    at: float  # when its read started
    value: T


class SharedReads(Generic[T]):
    """One read per key and freshness at a time, its value kept ``keep`` seconds."""

    def __init__(self, keep: float = KEEP_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keep, self._clock = keep, clock
        self._lock = threading.Lock()
        self._kept: dict[str, _Kept[T]] = {}
        self._flights: dict[tuple[str, Freshness], Future[T]] = {}

    def get(self, key: str, fresh: Freshness, read: Callable[[], T]) -> T:
        """The kept value of ``key`` if still ``fresh`` and young; else the result of the
        read under way for it, or of ``read()`` run now. A read refused by its caller's own
        bound (:class:`TooManyReads`) is not shared: its followers try again themselves."""
        while True:
            with self._lock:
                kept = self._kept.get(key)
                if (kept is not None and kept.fresh == fresh
                        and self._clock() - kept.at < self.keep):
                    return kept.value
                flight = self._flights.get((key, fresh))
                leader = flight is None
                if leader:
                    flight = self._flights[(key, fresh)] = Future()
                    started = self._clock()
            if leader:
                return self._lead(key, fresh, flight, read, started)
            try:
                return flight.result()
            except TooManyReads:
                continue

    def _lead(self, key: str, fresh: Freshness, flight: Future[T], read: Callable[[], T],
              started: float) -> T:
        try:
            value = read()
        except BaseException as exc:
            with self._lock:
                del self._flights[(key, fresh)]
            flight.set_exception(exc)
            raise
        with self._lock:
            del self._flights[(key, fresh)]
            kept = self._kept.get(key)
            if kept is None or kept.at <= started:
                self._kept[key] = _Kept(fresh, started, value)
        flight.set_result(value)
        return value


def unit_reads(app: Flask | None = None) -> SharedReads[Any]:
    """The process's shared unit reads of ``app`` (default: the current app)."""
    return per_app("recon.unit_reads", SharedReads, app)
