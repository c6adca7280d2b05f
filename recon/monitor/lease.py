"""Each process's part in monitoring the fleet, and the thread that renews it.

Every process that serves requests (each gunicorn worker) runs a :class:`Monitor`. Every
``RENEW_SECONDS`` it renews its membership and the leases of the hosts that are its share
(:mod:`recon.monitor.sharing`), starts a supervisor for each host it gained and stops those
of hosts it gave up: the hosts are spread over every process, rebalanced when one starts or
stops, and re-owned within ``LEASE_SECONDS`` plus a renewal when one dies. Separately,
exactly one process holds the **fleet lease**, and only it runs the leader duties (the
notifier, repair, history pruning): so each notification is still sent once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Protocol

import sqlalchemy as sa
from flask import Flask

from recon.config import ReconConfig
from recon.db.extensions import db
from recon.db.transactions import write_transaction
from recon.monitor import sharing
from recon.monitor.liveness import Liveness
from recon.monitor.models import MonitorLease
from recon.monitor.publisher import Publisher
from recon.monitor.supervisor import HostSupervisor
from recon.web.context import runtime

log = logging.getLogger("recon.monitor")
LEASE_NAME = "fleet"
LEASE_SECONDS = 10.0
RENEW_SECONDS = 2.0
# A process's first reads are spread over this much time per host it starts (at most
# START_SPREAD_MAX seconds in all): an SSH handshake costs the process ~20 ms of CPU, so 500
# at once would starve its other threads (the lease renewal among them) for seconds.
# Before its first claim a process waits this long for its sibling workers to register.
JOIN_SECONDS = 1.0
START_SPREAD_PER_HOST = 0.02
START_SPREAD_MAX = 20.0


class LeaderDuties(Protocol):
    """What the fleet lease's holder runs (:class:`recon.jobs.background.LeaderDuties`): the
    monitor says when the lease was taken, renewed and lost, and knows nothing more."""

    def begin(self, owner: str, since: float) -> None: ...
    def renew(self) -> None: ...
    def end(self) -> None: ...


def take_lease(owner: str, now: float | None = None, seconds: float = LEASE_SECONDS) -> bool:
    """Take or renew the lease for ``owner``; False while another owner holds it."""
    now = time.time() if now is None else now
    with write_transaction() as session:
        lease = session.get(MonitorLease, LEASE_NAME)
        if lease is None:
            session.add(MonitorLease(name=LEASE_NAME, owner=owner, expires_at=now + seconds))
            return True
        if lease.owner != owner and lease.expires_at > now:
            return False
        lease.owner, lease.expires_at = owner, now + seconds
        return True


def release_lease(owner: str) -> None:
    """Give the lease up at once (a clean shutdown), so another process need not wait."""
    db.session.execute(sa.delete(MonitorLease).where(MonitorLease.name == LEASE_NAME,
                                                     MonitorLease.owner == owner))
    db.session.commit()


def _by_host(config: ReconConfig) -> dict[str, list]:
    """The config's services grouped by host, in file order."""
    grouped: dict[str, list] = {}
    for svc in config.services.values():
        grouped.setdefault(svc.host, []).append(svc)
    return grouped


class Monitor:
    """This process's membership, its share of the hosts' supervisors, and its bid for the
    fleet lease (the leader duties)."""

    def __init__(self, app: Flask, duties: LeaderDuties | None = None,
                 join_seconds: float = JOIN_SECONDS):
        self.app = app
        self.duties = duties
        self.join_seconds = join_seconds  # before the first claim (0: a lone process)
        self._joined = False
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.started_at = time.time()
        self.supervisors: dict[str, HostSupervisor] = {}
        self.publisher = Publisher(app)
        # Notices a silent host within seconds (recon.monitor.liveness).
        self.liveness = Liveness(app, lambda: dict(self.supervisors), self.publisher.heard)
        self.leader = False
        self.members: list[str] = []
        self.renewals_failed = 0
        self._held_until = 0.0  # this process's host leases are valid until then
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # The config the supervisors were started from: a reload restarts those it changed.
        self._config = runtime(app).config
        self.server = f"{socket.gethostname()}:{os.getppid()}"

    def start(self, wait: float = 0) -> Monitor:
        """Start the lease thread; with ``wait``, block until the first round of reads is
        published (or ``wait`` seconds pass) -- for tests and the CLI."""
        self.publisher.start()
        self.liveness.start()
        self._thread = threading.Thread(target=self._run, daemon=True, name="recon-monitor")
        self._thread.start()
        if wait:
            self.wait_published(wait)
        return self

    def wait_published(self, timeout: float) -> bool:
        """Block until every host has been contacted at least once by some monitor."""
        from recon.monitor.models import HostState

        deadline = time.monotonic() + timeout
        names = set(runtime(self.app).config.hosts)
        while time.monotonic() < deadline:
            with self.app.app_context():
                seen = set(db.session.scalars(sa.select(HostState.name)))
            if names <= seen:
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.liveness.stop()
        self._stop_hosts(set(self.supervisors))
        self.publisher.stop()
        self._end_duties()
        try:
            with self.app.app_context():
                sharing.release_all(self.owner)
                if self.leader:
                    release_lease(self.owner)
        except sa.exc.OperationalError:
            pass  # the leases lapse by themselves
        self.leader = False

    def config_changed(self) -> None:
        """A new config was applied in this process: renew now (new hosts are claimed,
        removed ones given up, changed ones restarted) instead of at the next renewal."""
        self._wake.set()

    def poke(self, host: str) -> None:
        """Ask the host's supervisor (if it runs in this process) to read now."""
        sup = self.supervisors.get(host)
        if sup is not None:
            sup.poke()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._share_hosts()
            except sa.exc.OperationalError:
                self.renewals_failed += 1  # database busy: keep what we hold, retry soon
            except Exception:  # the lease thread must outlive any one failed renewal
                self.renewals_failed += 1
                log.exception("monitor: renewing the host leases failed; retrying")
            if time.time() > self._held_until and self.supervisors:
                # Not renewed for a whole lease past its expiry: this process is wedged (or
                # cut off from the database) and others have its hosts by now. A renewal that
                # is merely late keeps its supervisors: the next one stops those whose lease
                # another process took meanwhile (a host read twice for a moment is
                # harmless; stopping and restarting hundreds is not).
                log.warning("monitor: %s could not renew its host leases; stopping its %d "
                            "supervisors", self.owner, len(self.supervisors))
                self._stop_hosts(set(self.supervisors))
            self._bid_for_duties()
            self._wake.wait(RENEW_SECONDS)
            self._wake.clear()

    def _share_hosts(self) -> None:
        """One renewal: membership, then this process's share of the host leases."""
        config = runtime(self.app).config
        if config is not self._config:
            self._restart_changed(self._config, config)
        hosts = list(config.hosts)
        beat = {"revision": config.revision, "server": self.server}
        with self.app.app_context():
            self.members = sharing.heartbeat(self.owner, self.started_at, **beat)
            if not self._joined:
                # Workers start together: a moment's wait lets each see the others, so none
                # starts every supervisor only to hand half of them over.
                self._joined = True
                if self.join_seconds and not self._stop.wait(self.join_seconds):
                    self.members = sharing.heartbeat(self.owner, self.started_at, **beat)
            mine = {h for h, m in sharing.assign(hosts, self.members).items()
                    if m == self.owner}
            # Stop first, then give the lease up: never two supervisors for one host.
            self._stop_hosts(set(self.supervisors) - mine)
            health = {h: sup.health() for h, sup in self.supervisors.items()}
            restarts = {h: sup.crashes for h, sup in self.supervisors.items()}
            held, expires = sharing.sync_leases(self.owner, mine, health, restarts)
        self._held_until = expires + sharing.LEASE_SECONDS
        self._stop_hosts(set(self.supervisors) - held)
        self._start_hosts(sorted(held - set(self.supervisors)))

    def _restart_changed(self, old: ReconConfig, new: ReconConfig) -> None:
        """Hand each supervisor its host's new services; stop those whose host (address,
        key, ...) or settings a reload changed -- the renewal that follows starts them again
        from the new config (a removed host's is given up)."""
        self._config = new
        changed = {name for name in self.supervisors
                   if old.hosts.get(name) != new.hosts.get(name) or old.settings != new.settings}
        before, after = _by_host(old), _by_host(new)  # once: a fleet may have 10,000
        for name, sup in self.supervisors.items():
            if name in changed or before.get(name) == after.get(name):
                continue
            if any(s.health for s in (*before.get(name, ()), *after.get(name, ()))):
                changed.add(name)  # its health checks' thread starts over with them
            else:
                sup.set_services(after.get(name, []))  # same host: same connection
        if not changed:
            return
        log.info("monitor: config %s changed %d watched host(s): %s", new.revision,
                 len(changed), ", ".join(sorted(changed)[:10]))
        # Retired in the background: a supervisor may take a probe's length to end (a read
        # in flight), and this thread renews every lease -- it must not wait for them. A
        # stopping supervisor publishes nothing more, so its successor (started by this
        # very renewal) is the only one that writes the host's state.
        sups = [self.supervisors.pop(n) for n in changed]
        for sup in sups:
            sup.request_stop()
        threading.Thread(target=self._retire, args=(sups,), daemon=True,
                         name="recon-monitor-retire").start()

    @staticmethod
    def _retire(sups: list[HostSupervisor]) -> None:
        started = time.monotonic()
        for sup in sups:
            sup.stop()
        took = time.monotonic() - started
        if took > 2:
            log.warning("monitor: retiring %d supervisor(s) after a config change took %.1f s",
                        len(sups), took)

    def _start_hosts(self, names: list[str]) -> None:
        if not names:
            return
        rt = runtime(self.app)
        config = rt.config
        spread = min(START_SPREAD_MAX, START_SPREAD_PER_HOST * len(names))
        for i, name in enumerate(names):
            host = config.hosts.get(name)
            if host is None:
                continue
            sup = HostSupervisor(self.app, rt.executor, host, config.services_on(name),
                                 config.settings, self.publisher.submit,
                                 delay=spread * i / len(names))
            self.supervisors[name] = sup
            sup.start()
        log.info("monitor: %s watches %d hosts (+%d)", self.owner, len(self.supervisors),
                 len(names))

    def _stop_hosts(self, names: set[str]) -> None:
        sups = [self.supervisors.pop(n) for n in names if n in self.supervisors]
        for sup in sups:
            sup.request_stop()
        started = time.monotonic()
        for sup in sups:
            sup.stop()
        took = time.monotonic() - started
        if took > 2:
            log.warning("monitor: stopping %d supervisor(s) took %.1f s", len(sups), took)

    def _bid_for_duties(self) -> None:
        try:
            with self.app.app_context():
                leader = take_lease(self.owner)
        except sa.exc.OperationalError:
            leader = self.leader  # database busy: keep doing what we did, retry soon
        except Exception:
            log.exception("monitor: renewing the fleet lease failed; retrying")
            leader = self.leader
        if leader and not self.leader:
            log.info("monitor: %s runs the leader duties", self.owner)
            if self.duties is not None:
                self.duties.begin(self.owner, time.time())
        elif not leader and self.leader:
            log.info("monitor: %s lost the fleet lease", self.owner)
            self._end_duties()
        self.leader = leader
        if leader:
            self._renew_duties()

    def _renew_duties(self) -> None:
        if self.duties is None:
            return
        try:
            with self.app.app_context():
                self.duties.renew()
        except Exception:  # a failed repair or prune must not end the monitor
            log.exception("monitor: the leader duties failed; retrying at the next renewal")

    def _end_duties(self) -> None:
        if self.duties is not None and self.leader:
            self.duties.end()
