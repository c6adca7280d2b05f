"""Every background task of a process, started and scheduled here and nowhere else.

Each process that serves requests (each gunicorn worker; ``recon monitor`` in the
foreground) runs:

- the **terminal GC** every ``terminal_gc_seconds`` (:func:`recon.terminals.gc.run_pass`):
  every process, since each owns the ttyd processes it spawned;
- the **config watch** every second (:mod:`recon.liveconfig.watch`): a changed, valid
  recon.toml is applied without a restart;
- **retention** every ``RETENTION_SECONDS`` (:func:`recon.jobs.retention.run_prune`): plain
  DELETEs with a cutoff, safe in several processes at once;
- the **host units** (:func:`recon.hosts.watch.run_pass`): every ``host_units_seconds``, the
  unit list of each host this process's monitor watches, stored for the host pages;
- the **monitor** (:class:`recon.monitor.lease.Monitor`): the supervisors of this process's
  share of the hosts (:mod:`recon.monitor.sharing`), and the bid for the **fleet lease**:
  exactly one process holds it, and only while it does, it also runs the **leader duties**
  below -- the **notifier**, the **repair** of work a dead process left open (every
  ``REPAIR_SECONDS``) and the **history pruning** (every ``HISTORY_PRUNE_SECONDS``).

The factory starts none of this: :mod:`recon.entry.app` calls :func:`start` once per process.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from flask import Flask

from recon.hosts import watch as host_units
from recon.jobs import repair, retention
from recon.jobs.loop import Every
from recon.liveconfig import shared
from recon.liveconfig.watch import WATCH_SECONDS, check_file, report_split
from recon.monitor import history
from recon.monitor.lease import JOIN_SECONDS, Monitor
from recon.notify.worker import Notifier
from recon.notify.worker import start as start_notifier
from recon.terminals import gc as terminal_gc
from recon.web.context import runtime

log = logging.getLogger("recon.jobs")
RETENTION_SECONDS = 600.0
REPAIR_SECONDS = 30.0
HISTORY_PRUNE_SECONDS = 3600.0


def terminal_gc_task(app: Flask) -> Every:
    """The terminal GC of this process (not started)."""
    return Every(app, "terminal-gc", terminal_gc.run_pass,
                 lambda: runtime(app).config.settings.terminal_gc_seconds)


def retention_task(app: Flask) -> Every:
    """Retention pruning (not started)."""
    def prune() -> None:
        done = retention.run_prune()
        if sum(done.values()):
            log.info("pruned %s", dict(done))
    return Every(app, "retention", prune, lambda: RETENTION_SECONDS)


def config_watch_task(app: Flask) -> Every:
    """The watch on recon.toml (not started): a changed, valid file is applied here."""
    def look() -> None:
        check_file(app)
        shared.sync(app)
        report_split(app)
    return Every(app, "config-watch", look, lambda: WATCH_SECONDS)


def host_units_task(app: Flask) -> Every:
    """The unit lists of the hosts this process's monitor watches (not started)."""
    return Every(app, "host-units", lambda: host_units.run_pass(app),
                 lambda: host_units.interval(app))


class LeaderDuties:
    """What the holder of the fleet lease runs; the monitor calls these hooks."""

    def __init__(self, app: Flask):
        self.app = app
        self.notifier: Notifier | None = None
        self._term: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._last_repair = 0.0
        self._last_history_prune = 0.0

    def begin(self, owner: str, since: float) -> None:
        """This process took the fleet lease; the monitor's reads count from ``since``."""
        with self._lock:
            self._term = (owner, since)
            self.notifier = start_notifier(self.app, owner, since=since)

    def channels_changed(self) -> None:
        """A reload changed the notification channels: the notifier starts over with them
        (its state is in the database, so nothing queued is lost)."""
        with self._lock:
            if self._term is None:
                return  # not the leader: nothing runs here
            notifier, self.notifier = self.notifier, None
            if notifier is not None:
                notifier.stop()
            owner, since = self._term
            self.notifier = start_notifier(self.app, owner, since=since)

    def renew(self) -> None:
        """Called in an app context at each renewal of the lease (every few seconds)."""
        now = time.time()
        if now - self._last_repair >= REPAIR_SECONDS:
            repair.close_interrupted()
            self._last_repair = now
        if now - self._last_history_prune >= HISTORY_PRUNE_SECONDS:
            settings = runtime(self.app).config.settings
            history.prune(keep_seconds=settings.history_retention_days * 86400,
                           keep_events=settings.history_max_events)
            self._last_history_prune = now

    def end(self) -> None:
        """The lease is gone (lost or given up)."""
        with self._lock:
            notifier, self.notifier, self._term = self.notifier, None, None
        if notifier is not None:
            notifier.stop()


def start_monitor(app: Flask, wait: float = 0, *, alone: bool = False) -> Monitor:
    """Start ``app``'s monitor with the leader duties; kept in ``app.extensions`` so a request
    can poke a supervisor. With ``wait``, block until every host was read once; ``alone``:
    no sibling process is starting beside it, so it claims its hosts at once."""
    monitor = Monitor(app, LeaderDuties(app), join_seconds=0 if alone else JOIN_SECONDS)
    monitor.start(wait=wait)
    app.extensions["recon.monitor"] = monitor
    return monitor


@dataclass
class Background:
    """This process's background work."""

    app: Flask
    tasks: list[Every] = field(default_factory=list)
    monitor: Monitor | None = None

    def stop(self) -> None:
        """Stop every task and the monitor; close the terminals this process spawned."""
        for task in self.tasks:
            task.stop()
        if self.monitor is not None:
            self.monitor.stop()
        try:
            with self.app.app_context():
                terminal_gc.close_mine("shutdown")
        except Exception:
            log.exception("closing terminals at shutdown failed")


_started: dict[tuple[int, int], Background] = {}
_lock = threading.Lock()


def start(app: Flask) -> Background:
    """Start this process's background work for ``app``, once (a forked child starts its
    own); stopped at exit."""
    key = (os.getpid(), id(app))
    with _lock:
        work = _started.get(key)
        if work is None:
            work = _started[key] = Background(
                app, tasks=[terminal_gc_task(app).start(), retention_task(app).start(),
                            config_watch_task(app).start(), host_units_task(app).start()])
            work.monitor = start_monitor(app)
            atexit.register(work.stop)
    return work
