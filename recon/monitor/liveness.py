"""Host liveness you can trust: one thread per process notices within seconds that a host it
watches has gone silent, and records when each host last answered.

Every packet a host sends stamps its transport (``heard``, :class:`recon.ssh.connection.
_Transport`): command output, D-Bus signals, keepalive replies. Every ``SCAN_SECONDS`` the
watch looks at each watched host's open transport: one quiet for ``monitor_keepalive_seconds``
is asked for a keepalive reply (sent without waiting, no command on the host); one that then
stays silent past ``monitor_silence_seconds`` is published ``down`` at once and its
transport closed, which also ends a read that was waiting on it -- so a frozen host or a cut
link is flagged within the silence bound whatever its supervisor was doing, instead of after
a read's timeout plus a reconnect's (~15 s before).

No false alarm on a busy host: a host is judged only once a keepalive request has been
outstanding for ``silence - keepalive`` seconds (sshd answers it without running anything),
not while data sits unread in the socket (this process was busy, not the host), and not in
a scan that itself came late (this process was starved: its transport threads were too).

When each host last answered goes to ``host_state.last_seen`` once a second (one UPDATE for
all of this process's hosts, no snapshot version, no event): what the dashboard shows as
"answered N s ago".
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

import paramiko
import sqlalchemy as sa
from flask import Flask

from recon.config import HostConfig, Settings
from recon.db.transactions import write_transaction
from recon.monitor.models import HostState
from recon.ssh import Executor, RemoteError
from recon.web.context import runtime

log = logging.getLogger("recon.monitor")
SCAN_SECONDS = 0.25
HEARD_PUBLISH_SECONDS = 1.0
STARVED_SECONDS = 1.0  # a scan this much later than planned judges no host


class HostSilent(RemoteError):
    """An open connection on which the host stopped answering, keepalives included."""

    code = "timeout"
    status = 504
    hint = ("The host stopped answering on its open connection, SSH keepalives included: it "
            "is frozen or overloaded past answering, or the network to it dropped. RECON "
            "closed the connection and keeps trying to reach it.")


class Watched(Protocol):
    """What the watch needs of a host's supervisor."""

    host: HostConfig
    executor: Executor

    def silent(self, transport: paramiko.Transport, error: RemoteError) -> None: ...


def record_heard(heard: Mapping[str, float]) -> int:
    """Store when each host last answered (epoch) as its ``last_seen``; a time never moves
    back. Returns the rows updated."""
    if not heard:
        return 0
    t = HostState.__table__
    stmt = (sa.update(t).where(t.c.name == sa.bindparam("b_name"))
            .where(sa.or_(t.c.last_seen.is_(None), t.c.last_seen < sa.bindparam("b_at")))
            .values(last_seen=sa.bindparam("b_at")))
    with write_transaction() as session:
        result = session.execute(stmt, [{"b_name": n, "b_at": at} for n, at in heard.items()])
        return result.rowcount or 0


def unread_data(transport: paramiko.Transport) -> bool:
    """Whether the host's bytes wait in the socket, unread by a transport thread that did
    not get the CPU (poll: no 1024-descriptor limit)."""
    try:
        poller = select.poll()
        poller.register(transport.sock.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


class Liveness:
    """The watch over the hosts this process's supervisors watch (see the module)."""

    def __init__(self, app: Flask, supervisors: Callable[[], Mapping[str, Watched]],
                 heard: Callable[[dict[str, float]], None]):
        self.app = app
        self.supervisors = supervisors  # a snapshot of host name -> supervisor
        self.publish_heard = heard
        self.silenced = 0  # hosts found silent (a public counter)
        self.pings = 0
        self._pinged: dict[str, float] = {}  # host -> first unanswered ping (monotonic)
        self._heard: dict[str, float] = {}  # host -> heard (monotonic) not yet published
        self._published: dict[str, float] = {}
        self._published_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="recon-liveness")

    def start(self) -> Liveness:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        planned = time.monotonic()
        while not self._stop.wait(max(0.0, planned - time.monotonic())):
            now = time.monotonic()
            try:
                self.scan(now, judge=now - planned < STARVED_SECONDS)
                if now - self._published_at >= HEARD_PUBLISH_SECONDS:
                    self._publish(now)
            except Exception:  # the watch must outlive anything one host does to it
                log.exception("monitor: the liveness watch failed a round; going on")
            planned = max(now, planned) + SCAN_SECONDS

    def settings(self) -> Settings:
        """The running config's settings (a live reload changes them)."""
        return runtime(self.app).config.settings

    def scan(self, now: float, *, judge: bool = True) -> list[str]:
        """One round over the watched hosts at ``now`` (monotonic): ping the quiet ones,
        report the silent ones to their supervisors; returns the silent hosts' names."""
        settings = self.settings()
        keepalive = settings.monitor_keepalive_seconds
        silence = settings.monitor_silence_seconds
        grace = max(0.5, silence - keepalive)  # how long a keepalive request gets, at least
        silent: list[str] = []
        watched = self.supervisors()
        for name in [n for n in self._pinged if n not in watched]:
            del self._pinged[name]
        for name, sup in watched.items():
            conn = sup.executor.connection(sup.host)
            got = conn.heard()
            if got is None:  # no open connection: the supervisor's reads say how it is
                self._pinged.pop(name, None)
                continue
            transport, heard = got
            if heard > self._published.get(name, 0.0):
                self._heard[name] = heard
            pinged = self._pinged.get(name)
            if pinged is not None and heard >= pinged:
                pinged = None  # answered (or said something else since)
                del self._pinged[name]
            quiet = now - heard
            if pinged is None and quiet >= keepalive:
                if conn.ping(transport):
                    self._pinged[name] = pinged = now
                    self.pings += 1
            if (judge and pinged is not None and quiet >= silence and now - pinged >= grace
                    and not unread_data(transport)):
                del self._pinged[name]
                self.silenced += 1
                silent.append(name)
                error = HostSilent(f"{name} answered nothing for {quiet:.1f} s, not even an "
                                   "SSH keepalive (frozen, or the link is cut)", host=name)
                log.warning("monitor: %s", error.message)
                sup.silent(transport, error)
        return silent

    def _publish(self, now: float) -> None:
        """Hand the new answer times to the publisher (epoch, from the monotonic stamps)."""
        self._published_at = now
        if not self._heard:
            return
        offset = time.time() - now
        self.publish_heard({n: h + offset for n, h in self._heard.items()})
        self._published.update(self._heard)
        self._heard = {}
