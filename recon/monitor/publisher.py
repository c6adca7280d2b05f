"""The monitor's writes, batched: one thread per process publishes every supervisor's reads.

A supervisor hands its reading over and goes back to its host; this thread writes whatever
has queued up since its last write in one transaction (:func:`recon.monitor.snapshot.
publish_readings`). With a thousand hosts that is a few transactions a second instead of a
thousand writers queueing for SQLite's one write lock ("database is locked"). A write that
fails (the database busy past its timeout) is retried with what arrived meanwhile; anything
unexpected is logged and the thread goes on -- it never dies silently.
"""

from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa
from flask import Flask

from recon.monitor import liveness, snapshot
from recon.monitor.snapshot import Reading

log = logging.getLogger("recon.monitor")
# How long a write waits for more readings to join it: a burst (a fleet-wide restart, the
# start) is written in a few large transactions rather than many small ones.
GATHER_SECONDS = 0.02
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)
# At most this many readings per transaction: the write lock is held for a bounded time, so
# a request or a lease renewal waiting for it is not starved by a fleet-wide burst.
MAX_BATCH = 100
# Readings kept while the database refuses them; past this the oldest go (the supervisors
# read again at their next poll, so nothing is lost for good).
MAX_PENDING = 20000


class Publisher:
    """Collects readings from this process's supervisors and writes them in batches."""

    def __init__(self, app: Flask):
        self.app = app
        self.batches = 0  # transactions written (a public counter)
        self.failures = 0  # writes that failed and were retried
        self._pending: list[Reading] = []
        self._heard: dict[str, float] = {}  # host -> when it last answered (epoch)
        self._cond = threading.Condition()
        self._stop = False
        self._busy = False  # a batch is being written
        self._thread: threading.Thread | None = None

    def start(self) -> Publisher:
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="recon-monitor-publisher")
        self._thread.start()
        return self

    def submit(self, reading: Reading) -> None:
        """Queue one reading (returns at once)."""
        with self._cond:
            self._pending.append(reading)
            if len(self._pending) > MAX_PENDING:
                del self._pending[:len(self._pending) - MAX_PENDING]
            self._cond.notify()

    def heard(self, times: dict[str, float]) -> None:
        """Queue when hosts last answered (written with the next batch, newest wins)."""
        with self._cond:
            self._heard.update(times)
            self._cond.notify()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (for tests and a clean stop)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._heard or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def stop(self) -> None:
        self.flush(timeout=5.0)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        failures_in_row = 0
        while True:
            with self._cond:
                while not self._pending and not self._heard and not self._stop:
                    self._cond.wait()
                if self._stop and not self._pending and not self._heard:
                    return
            time.sleep(GATHER_SECONDS)
            with self._cond:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                heard, self._heard = self._heard, {}
                self._busy = True
            try:
                with self.app.app_context():
                    if batch:
                        snapshot.publish_readings(batch)
                    liveness.record_heard(heard)
                self.batches += 1
                failures_in_row = 0
            except sa.exc.OperationalError as exc:  # busy or gone for a while: retry it all
                self.failures += 1
                failures_in_row += 1
                wait = RETRY_SECONDS[min(failures_in_row, len(RETRY_SECONDS)) - 1]
                log.warning("monitor: could not publish %d readings (%s); retrying in %g s",
                            len(batch), exc.orig, wait)
                with self._cond:
                    self._pending[:0] = batch  # older first: a later reading wins
                    for host, at in heard.items():
                        self._heard[host] = max(at, self._heard.get(host, 0.0))
                time.sleep(wait)
            except Exception:  # a bug in one reading must not hold back the others
                self.failures += 1
                log.exception("monitor: publishing %d readings failed; writing them one by "
                              "one", len(batch))
                self._one_by_one(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _one_by_one(self, batch: list[Reading]) -> None:
        for reading in batch:
            try:
                with self.app.app_context():
                    snapshot.publish_readings([reading])
            except Exception:
                log.exception("monitor: dropped the reading of %s (the next read replaces it)",
                              reading.host)
