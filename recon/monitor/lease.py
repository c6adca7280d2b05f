"""Which process monitors the fleet, and the thread that decides it.

Every process that serves requests (each gunicorn worker) runs a :class:`Monitor`; they
agree through a lease row in the database that exactly one of them runs the host
supervisors. The holder renews it every ``RENEW_SECONDS``; if it dies, another process takes
over once the lease lapses (``LEASE_SECONDS``). The others only read the snapshot.
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

from recon.db.extensions import db
from recon.monitor.models import MonitorLease
from recon.monitor.snapshot import write_transaction
from recon.monitor.supervisor import HostSupervisor
from recon.web.context import runtime

log = logging.getLogger("recon.monitor")
LEASE_NAME = "fleet"
LEASE_SECONDS = 10.0
RENEW_SECONDS = 2.0


class LeaderDuties(Protocol):
    """What else the lease holder runs (:class:`recon.jobs.background.LeaderDuties`): the
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


class Monitor:
    """Runs this process's bid for the lease and, while it holds it, the supervisors."""

    def __init__(self, app: Flask, duties: LeaderDuties | None = None):
        self.app = app
        self.duties = duties
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.supervisors: dict[str, HostSupervisor] = {}
        self.leader = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wait: float = 0) -> Monitor:
        """Start the lease thread; with ``wait``, block until the first round of reads is
        published (or ``wait`` seconds pass) -- for tests and the CLI."""
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
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._stop_supervisors()
        if self.leader:
            try:
                with self.app.app_context():
                    release_lease(self.owner)
            except sa.exc.OperationalError:
                pass  # the lease lapses by itself
            self.leader = False

    def poke(self, host: str) -> None:
        """Ask the host's supervisor (if it runs in this process) to read now."""
        sup = self.supervisors.get(host)
        if sup is not None:
            sup.poke()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.app.app_context():
                    leader = take_lease(self.owner)
            except sa.exc.OperationalError:
                leader = self.leader  # database busy: keep doing what we did, retry soon
            except Exception:  # the lease thread must outlive any one failed renewal
                log.exception("monitor: renewing the lease failed; retrying")
                leader = self.leader
            if leader and not self.leader:
                log.info("monitor: %s runs the host supervisors", self.owner)
                self._start_supervisors()
            elif not leader and self.leader:
                log.info("monitor: %s lost the lease", self.owner)
                self._stop_supervisors()
            self.leader = leader
            if leader:
                self._renew_duties()
            self._stop.wait(RENEW_SECONDS)

    def _renew_duties(self) -> None:
        if self.duties is None:
            return
        try:
            with self.app.app_context():
                self.duties.renew()
        except Exception:  # a failed repair or prune must not end the monitor
            log.exception("monitor: the leader duties failed; retrying at the next renewal")

    def _start_supervisors(self) -> None:
        rt = runtime(self.app)
        config = rt.config
        began = time.time()  # the notifier trusts the snapshot's reads from here on
        for name, host in config.hosts.items():
            sup = HostSupervisor(self.app, rt.executor, host, config.services_on(name),
                                 config.settings)
            self.supervisors[name] = sup
            sup.start()
        if self.duties is not None:
            self.duties.begin(self.owner, began)

    def _stop_supervisors(self) -> None:
        if self.duties is not None:
            self.duties.end()
        sups, self.supervisors = list(self.supervisors.values()), {}
        for sup in sups:
            sup.request_stop()
        for sup in sups:
            sup.stop()

