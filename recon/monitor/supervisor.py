"""One supervisor per host: reads its units, hears of their changes, publishes both.

The supervisor is the only thing that talks to a host on behalf of page views. It reads all
of the host's units with one ``systemctl show``; then it waits for a D-Bus signal from the
host (:mod:`.signals`) or for the safety poll, whichever comes first. A failed read marks the
host down, replaces the connection and backs off (1, 2, 4, 8 s) before the next probe, so a
host that comes back is seen within seconds and nothing else waits on it meanwhile. Anything
unexpected that escapes the loop is logged with the host and the loop restarts after a back-off
(``crashes`` counts it): a supervisor never dies silently.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from flask import Flask

from recon.config import HostConfig, ServiceConfig, Settings
from recon.monitor import snapshot
from recon.monitor.signals import UnitWatcher
from recon.ssh import Executor, RemoteError
from recon.ssh.executor import REMOTE_TIMEOUT_EXIT
from recon.ssh.systemctl import fetch_statuses

log = logging.getLogger("recon.monitor")
BACKOFF = (1.0, 2.0, 4.0, 8.0)
# Between restarts of a supervisor whose loop raised something unexpected (a bug, not a host).
CRASH_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
# After a signal, wait this long for the burst it starts (a restart emits several) to settle.
SETTLE_SECONDS = 0.005


class HostSupervisor:
    """Owns the monitoring conversation with one host, on its own thread."""

    def __init__(self, app: Flask, executor: Executor, host: HostConfig,
                 services: Sequence[ServiceConfig], settings: Settings):
        self.app, self.executor, self.host, self.settings = app, executor, host, settings
        self.services = list(services)
        self.units = tuple(dict.fromkeys(s.unit for s in self.services))
        self.reads = 0  # systemctl show commands sent (a public counter)
        self.crashes = 0  # times the loop raised something unexpected and was restarted
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._watcher: UnitWatcher | None = None
        self._watch_failures = 0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"recon-monitor-{host.name}")

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to end (returns at once; :meth:`stop` also waits for it)."""
        self._stop.set()
        self._wake.set()

    def stop(self) -> None:
        self.request_stop()
        if self._watcher is not None:
            self._watcher.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.settings.monitor_probe_timeout + 5)

    def poke(self) -> None:
        """Read the host now (a signal arrived, or someone asked)."""
        self._wake.set()

    @property
    def events_mode(self) -> str:
        w = self._watcher
        return "dbus" if w is not None and w.alive() else "poll"

    # -- the loop ------------------------------------------------------------------------
    def _run(self) -> None:
        """The loop, restarted after anything unexpected: the error is logged with its host
        and counted (``crashes``), and the loop begins again after a back-off that grows
        with each crash in a row -- a supervisor never dies silently."""
        in_row = 0
        while not self._stop.is_set():
            try:
                self._loop()
                return
            except Exception:
                self.crashes += 1
                in_row += 1
                wait = CRASH_BACKOFF[min(in_row, len(CRASH_BACKOFF)) - 1]
                log.exception("monitor: the supervisor of %s failed (%d so far); restarting "
                              "in %g s", self.host.name, self.crashes, wait)
                self._drop_watcher()
                self._stop.wait(wait)

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            error = self._read_once()
            if error is not None:
                failures += 1
                self._drop_watcher()
                self._stop.wait(BACKOFF[min(failures, len(BACKOFF)) - 1])
                continue
            failures = 0
            self._ensure_watcher()
            interval = (self.settings.monitor_poll_seconds if self.events_mode == "dbus"
                        else self.settings.monitor_fallback_poll_seconds)
            self._idle(interval)

    def _idle(self, interval: float) -> None:
        """Wait for a signal (then let its burst settle) or until the next safety read; in
        between, a keepalive round trip every ``monitor_keepalive_seconds`` notices a link
        that went silent -- its transport is replaced and the host read again at once."""
        deadline = time.monotonic() + interval
        conn = self.executor.connection(self.host)
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._wake.wait(min(left, self.settings.monitor_keepalive_seconds)):
                self._stop.wait(SETTLE_SECONDS)
                return
            if time.monotonic() < deadline and not conn.answers(
                    self.settings.monitor_probe_timeout):
                log.warning("monitor: %s did not answer a keepalive within %g s; reconnecting",
                            self.host.name, self.settings.monitor_probe_timeout)
                return

    def _read_once(self) -> RemoteError | None:
        """One read of every unit, published; returns the error if the host failed."""
        observed_at = time.time()
        error: RemoteError | None = None
        statuses = None
        if self.units:
            try:
                self.reads += 1
                statuses = fetch_statuses(self.executor, self.host, self.units,
                                          timeout=self.settings.monitor_probe_timeout,
                                          probe=True)
            except RemoteError as exc:
                error = exc
        try:
            with self.app.app_context():
                if statuses:  # one transaction: the units and the host's being up
                    snapshot.publish_statuses(self.services, statuses, observed_at,
                                              events=self.events_mode)
                else:
                    snapshot.publish_host(self.host.name, error, events=self.events_mode)
        except Exception:  # a locked database must not kill the supervisor
            log.exception("monitor: could not publish the state of %s", self.host.name)
        return error

    def _ensure_watcher(self) -> None:
        w = self._watcher
        if w is not None:
            if w.alive() or w.unavailable:
                return
            self._watcher = None
            if w.exit_code != REMOTE_TIMEOUT_EXIT:  # it failed, rather than ran its time
                self._watch_failures += 1
        if self._watch_failures % 10:  # after a failure, try again every 10th pass
            self._watch_failures += 1
            return
        watcher = UnitWatcher(self.executor, self.host, self.units, self.poke)
        try:
            watcher.start()
        except RemoteError as exc:
            self._watch_failures += 1
            log.warning("monitor: no unit signals from %s (%s); polling every %g s",
                        self.host.name, exc.message, self.settings.monitor_fallback_poll_seconds)
            return
        self._watcher = watcher
        # Changes between the read above and the watcher's start would go unseen.
        self.poke()

    def _drop_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
