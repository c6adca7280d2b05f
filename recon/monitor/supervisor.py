"""One supervisor per host: reads its units, hears of their changes, publishes both.

The supervisor is the only thing that talks to a host on behalf of page views. It reads all
of the host's units with one ``systemctl show``; then it waits for a D-Bus signal from the
host (:mod:`.signals`) or for the safety poll, whichever comes first. A failed read marks the
host down, replaces the connection and backs off before the next probe: quickly at first (a
blip is seen again within seconds), then growing to about a minute with jitter, so a host that
is off for a week costs one attempt a minute and a thousand dead hosts are not tried in step.
Anything unexpected that escapes the loop is logged with the host and the loop restarts after
a back-off (``crashes`` counts it): a supervisor never dies silently, and :meth:`health` tells
the monitor whether it is reporting, so a host nobody watches is shown as such.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence

import paramiko
from flask import Flask

from recon.config import HostConfig, ServiceConfig, Settings
from recon.monitor.healthcheck import HealthRunner
from recon.monitor.healthstate import UP_STATES
from recon.monitor.signals import UnitWatcher
from recon.monitor.snapshot import Reading
from recon.ssh import Executor, RemoteError, SshdRefusing
from recon.ssh.banner import banner_problem
from recon.ssh.executor import REMOTE_TIMEOUT_EXIT
from recon.ssh.systemctl import fetch_statuses

log = logging.getLogger("recon.monitor")
# Waits after the 1st, 2nd, ... failed read in a row: each drawn from 80-100 % of its step,
# but the last (60 s), which is exact (see _loop).
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
# How much longer than its current step may take a supervisor may go without reporting
# before the monitor calls the host "not watched".
REPORT_SLACK_SECONDS = 10.0
# Between restarts of a supervisor whose loop raised something unexpected (a bug, not a host).
CRASH_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
# After a signal, wait this long for the burst it starts (a restart emits several) to settle.
SETTLE_SECONDS = 0.005


class HostSupervisor:
    """Owns the monitoring conversation with one host, on its own thread."""

    def __init__(self, app: Flask, executor: Executor, host: HostConfig,
                 services: Sequence[ServiceConfig], settings: Settings,
                 publish: Callable[[Reading], None], delay: float = 0.0):
        self.app, self.executor, self.host, self.settings = app, executor, host, settings
        self.services = tuple(services)
        self.units = tuple(dict.fromkeys(s.unit for s in self.services))
        self.publish = publish  # hands a reading to the process's publisher
        self.delay = delay  # before the first read: spreads a fleet's connects over time
        self.reads = 0  # systemctl show commands sent (a public counter)
        self.crashes = 0  # times the loop raised something unexpected and was restarted
        self.failing: str | None = None  # the last crash, until a read goes through again
        # sshd takes no new connections (the banner probe) while the open one works
        self.refusing: SshdRefusing | None = None
        self.banner_probes = 0
        self._banner_due = 0.0  # monotonic; the first idle moment probes
        self._due = time.monotonic() + delay + REPORT_SLACK_SECONDS + self._read_time()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._watcher: UnitWatcher | None = None
        self._watch_failures = 0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"recon-monitor-{host.name}")
        # The last read's (state, MainPID) of each unit: the health runner checks only units
        # that are up, and checks a unit at once when it (re)starts.
        self._seen: dict[str, tuple[str | None, int | None]] = {}
        self.checks = HealthRunner(executor, host, self.services, self._publish_health,
                                   unit_up=self._unit_up)

    def start(self) -> None:
        self._thread.start()
        self.checks.start()

    def _unit_up(self, unit: str) -> bool:
        return self._seen.get(unit, (None, None))[0] in UP_STATES

    def _publish_health(self, results: dict, at: float) -> None:
        self.publish(Reading(self.host.name, self.services, None, at, health=results))

    def request_stop(self) -> None:
        """Ask the loop to end (returns at once; :meth:`stop` also waits for it)."""
        self._stop.set()
        self._wake.set()
        self.checks._stop.set()
        self.checks._wake.set()

    def stop(self) -> None:
        self.request_stop()
        self.checks.stop()
        if self._watcher is not None:
            self._watcher.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.settings.monitor_probe_timeout + 5)

    def poke(self) -> None:
        """Read the host now (a signal arrived, or someone asked)."""
        self._wake.set()

    def set_services(self, services: Sequence[ServiceConfig]) -> None:
        """A config reload changed this host's services: read those from now on, at once.
        The connection and the remote watcher stay (a restart would open a new session per
        reload, and sshd frees the old one only when its dbus-monitor next writes)."""
        services = tuple(services)
        self.services, self.units = services, tuple(dict.fromkeys(s.unit for s in services))
        watcher = self._watcher
        if watcher is not None:
            watcher.watch(self.units)
        self.poke()

    def health(self) -> tuple[str, str | None]:
        """``("watching", None)`` while the loop reports on time; ``("failing", why)`` while
        it restarts after a crash, has stopped, or is late."""
        if self.failing:
            return "failing", self.failing
        if not self._thread.is_alive():
            return "failing", "its supervisor is not running"
        late = time.monotonic() - self._due
        if late > 0:
            return "failing", f"its supervisor has not reported for {late:.0f} s past due"
        return "watching", None

    def _expect(self, seconds: float) -> None:
        """The loop's next report is due within ``seconds`` (plus slack)."""
        self._due = time.monotonic() + seconds + REPORT_SLACK_SECONDS

    def _read_time(self) -> float:
        return self.host.connect_timeout * 3 + self.settings.monitor_probe_timeout

    @property
    def events_mode(self) -> str:
        w = self._watcher
        return "dbus" if w is not None and w.alive() else "poll"

    # -- the loop ------------------------------------------------------------------------
    def _run(self) -> None:
        """The loop, restarted after anything unexpected: the error is logged with its host
        and counted (``crashes``), and the loop begins again after a back-off that grows
        with each crash in a row -- a supervisor never dies silently."""
        if self._stop.wait(self.delay):
            return
        in_row = 0
        while not self._stop.is_set():
            try:
                self._loop()
                return
            except Exception as exc:
                self.crashes += 1
                in_row += 1
                wait = CRASH_BACKOFF[min(in_row, len(CRASH_BACKOFF)) - 1]
                self.failing = (f"its supervisor failed ({type(exc).__name__}: {exc}); "
                                f"restart {self.crashes} in {wait:g} s")
                log.exception("monitor: the supervisor of %s failed (%d so far); restarting "
                              "in %g s", self.host.name, self.crashes, wait)
                self._drop_watcher()
                self._expect(wait + self._read_time())
                self._stop.wait(wait)

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            self._expect(self._read_time())
            error = self._read_once()
            self.failing = None  # the loop went round: whatever crashed it is behind it
            if error is not None:
                failures += 1
                self._drop_watcher()
                # sshd is probed again at the first idle moment after a failure; a lost
                # connection that comes back was a new one, so sshd accepted it.
                self._banner_due = 0.0
                if error.code in ("unreachable", "timeout"):
                    self.refusing = None
                step = BACKOFF[min(failures, len(BACKOFF)) - 1]
                # Jitter on the way up spreads the hosts' phases; the last step is exact, so
                # a long-dead host costs at most one attempt a minute and one that comes back
                # is seen within a minute.
                wait = step if failures >= len(BACKOFF) else step * random.uniform(0.8, 1.0)
                self._expect(wait + self._read_time())
                self._stop.wait(wait)
                continue
            failures = 0
            self._expect(self._read_time())
            self._ensure_watcher()
            interval = (self.settings.monitor_poll_seconds if self.events_mode == "dbus"
                        else self.settings.monitor_fallback_poll_seconds)
            self._idle(interval)

    def _idle(self, interval: float) -> None:
        """Wait for a signal (then let its burst settle) or until the next safety read; in
        between, probe sshd's banner when due. (A link that goes silent meanwhile is the
        liveness watch's to notice: :meth:`silent` wakes this loop.)"""
        deadline = time.monotonic() + interval
        while not self._stop.is_set():
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return
            every = self.settings.monitor_banner_seconds
            if every and now >= self._banner_due:
                self._banner_due = now + every
                self._probe_banner()
                continue
            wait = min(left, self._banner_due - now) if every else left
            self._expect(wait + self._read_time())
            if self._wake.wait(wait):
                self._stop.wait(SETTLE_SECONDS)
                return

    def _probe_banner(self) -> None:
        """A new TCP connection to sshd and its banner (:mod:`recon.ssh.banner`): the host is
        ``degraded`` while sshd takes none, told at once when that changes either way."""
        self.banner_probes += 1
        self._expect(self.host.connect_timeout + self._read_time())
        problem = banner_problem(self.host.address, self.host.port, self.host.connect_timeout)
        was = self.refusing.message if self.refusing else None
        address = f"[{self.host.address}]" if ":" in self.host.address else self.host.address
        where = f"sshd at {address}:{self.host.port}"
        if problem is None:
            self.refusing = None
        else:
            self.refusing = SshdRefusing(f"{where} does not accept new connections: {problem}",
                                         host=self.host.name)
        now = self.refusing.message if self.refusing else None
        if now != was:
            log.warning("monitor: %s", now or f"{where} accepts new connections again")
            self.publish(Reading(self.host.name, (), None, time.time(), None,
                                 self.events_mode, degraded=self.refusing))

    def silent(self, transport: paramiko.Transport, error: RemoteError) -> None:
        """The liveness watch found the host silent on ``transport``: published down now,
        the transport closed (a read waiting on it ends) and the host read again, which
        reconnects or says why not."""
        self.publish(Reading(self.host.name, (), None, time.time(), error, self.events_mode))
        self.executor.connection(self.host).discard(transport)
        self.poke()

    def _read_once(self) -> RemoteError | None:
        """One read of every unit, published; returns the error if the host failed."""
        observed_at = time.time()
        error: RemoteError | None = None
        statuses = None
        services, units = self.services, self.units  # one pair, even during a reload
        if units:
            try:
                self.reads += 1
                statuses = fetch_statuses(self.executor, self.host, units,
                                          timeout=self.settings.monitor_probe_timeout,
                                          probe=True)
            except RemoteError as exc:
                error = exc
        if self._stop.is_set():
            return error  # retired meanwhile: its successor publishes the host's state
        if statuses:
            self._note_states(statuses)
        # The publisher writes it with other hosts' readings (one transaction for many).
        self.publish(Reading(self.host.name, services, statuses, observed_at, error,
                             self.events_mode, degraded=self.refusing))
        return error

    def _note_states(self, statuses: dict) -> None:
        """Remember each unit's state and MainPID; a unit that came up (or got a new main
        process) has its health check run now rather than an interval later."""
        for unit, status in statuses.items():
            now = (status.get("state"), status.get("main_pid"))
            before = self._seen.get(unit)
            self._seen[unit] = now
            if now[0] in UP_STATES and (before is None or before[0] not in UP_STATES
                                        or before[1] != now[1]):
                self.checks.poke(unit)

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
