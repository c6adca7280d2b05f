"""Fan-out of monitor events to this process's open event streams.

Whichever process writes an event, every process learns of it the same way: one thread per
process reads new rows every ``POLL_SECONDS`` (one indexed query, only while a stream is
open) and wakes the streams waiting in :meth:`EventHub.wait`. Streams do not query the
database while they wait, so an open page holds no database connection.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

import sqlalchemy as sa
from flask import Flask

from recon.monitor.history import events_after

log = logging.getLogger("recon.monitor")
POLL_SECONDS = 0.05
KEEP = 2000  # events kept in memory for streams that fell a little behind
IDLE_STOP_SECONDS = 30.0


class EventHub:
    """Per-process reader of the event table, shared by every stream of the process."""

    def __init__(self, app: Flask):
        self.app = app
        self._cond = threading.Condition()
        self._recent: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self._last_id = 0  # the newest id read
        self._complete_after = 0  # memory holds every event with an id above this
        self._subscribers = 0
        self._idle_since = time.monotonic()
        self._thread: threading.Thread | None = None

    def subscribe(self, after: int) -> None:
        """Count a stream in (it has seen everything up to ``after``); starts the reader."""
        with self._cond:
            self._subscribers += 1
            if self._thread is None or not self._thread.is_alive():
                self._recent.clear()
                self._last_id = self._complete_after = after
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="recon-event-hub")
                self._thread.start()

    def unsubscribe(self) -> None:
        with self._cond:
            self._subscribers -= 1
            if self._subscribers == 0:
                self._idle_since = time.monotonic()

    def wait(self, after: int, timeout: float) -> list[dict[str, Any]] | None:
        """Events with an id above ``after``, waiting up to ``timeout`` for the first; None
        when memory no longer holds all of them (the caller reads the gap from the table)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if after < self._complete_after:
                    return None
                news = [e for e in self._recent if e["id"] > after]
                remaining = deadline - time.monotonic()
                if news or remaining <= 0:
                    return news
                self._cond.wait(remaining)

    def _run(self) -> None:
        failures = 0
        while True:
            with self._cond:
                if not self._subscribers and (
                        time.monotonic() - self._idle_since > IDLE_STOP_SECONDS):
                    self._thread = None
                    return
                last = self._last_id
            try:
                with self.app.app_context():
                    rows = [e.to_dict() for e in events_after(last)]
                failures = 0
            except sa.exc.OperationalError:
                rows = []  # locked for a moment: the next round reads what this one missed
            except Exception:  # the streams of this process depend on this thread: go on
                failures += 1
                log.exception("event hub: reading events after %d failed (%d in a row); "
                              "retrying", last, failures)
                rows = []
                time.sleep(min(5.0, POLL_SECONDS * 2 ** failures))
            if rows:
                with self._cond:
                    if len(self._recent) + len(rows) > KEEP:
                        dropped = len(self._recent) + len(rows) - KEEP
                        gone = (list(self._recent) + rows)[dropped - 1]["id"]
                        self._complete_after = max(self._complete_after, gone)
                    self._recent.extend(rows)
                    self._last_id = rows[-1]["id"]
                    self._cond.notify_all()
            time.sleep(POLL_SECONDS)


def event_hub(app: Flask) -> EventHub:
    """This process's hub (created on first use; its thread starts with the first stream)."""
    return app.extensions.setdefault("recon.events", EventHub(app))
