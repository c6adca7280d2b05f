"""The liveness watch's rules (recon.monitor.liveness), on stand-in transports: a quiet host is
asked for a keepalive reply, a silent one is reported only once that request had its time,
and a busy process (unread bytes in the socket, a late scan) reports no one."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import pytest

from recon.config import Settings
from recon.monitor import liveness
from recon.monitor.liveness import HostSilent, Liveness


class FakeTransport:
    def __init__(self) -> None:
        self.sock, self.peer = socket.socketpair()

    def close(self) -> None:
        self.sock.close()
        self.peer.close()


@dataclass
class FakeConnection:
    transport: FakeTransport | None
    heard_at: float
    pings: list[float] = field(default_factory=list)
    clock: list[float] = field(default_factory=lambda: [0.0])

    def heard(self):
        return None if self.transport is None else (self.transport, self.heard_at)

    def ping(self, transport) -> bool:
        self.pings.append(self.clock[0])
        return True


class FakeExecutor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn

    def connection(self, host):
        return self.conn


@dataclass
class FakeSupervisor:
    executor: FakeExecutor
    host: str = "alpha"
    reports: list[HostSilent] = field(default_factory=list)

    def silent(self, transport, error) -> None:
        self.reports.append(error)


class Watch(Liveness):
    def settings(self) -> Settings:
        return Settings(monitor_keepalive_seconds=1.0, monitor_silence_seconds=3.0)


@pytest.fixture
def setup():
    transport = FakeTransport()
    conn = FakeConnection(transport, heard_at=100.0)
    sup = FakeSupervisor(FakeExecutor(conn))
    watch = Watch(None, lambda: {"alpha": sup}, lambda times: None)
    yield watch, conn, sup
    transport.close()


def scan(watch, conn, now, judge=True):
    conn.clock[0] = now
    return watch.scan(now, judge=judge)


def test_a_host_that_talks_is_not_asked_anything(setup):
    watch, conn, sup = setup
    for t in (100.2, 100.5, 100.9):
        conn.heard_at = t
        assert scan(watch, conn, t + 0.1) == []
    assert conn.pings == [] and sup.reports == []


def test_a_quiet_host_is_asked_once_and_an_answer_clears_it(setup):
    watch, conn, sup = setup
    assert scan(watch, conn, 101.0) == [] and conn.pings == [101.0]
    scan(watch, conn, 101.5)
    assert conn.pings == [101.0]  # one request outstanding, not one per scan
    conn.heard_at = 101.6  # the reply
    assert scan(watch, conn, 102.0) == [] and sup.reports == []
    scan(watch, conn, 102.7)  # quiet again for a keepalive period: asked again
    assert conn.pings == [101.0, 102.7]


def test_a_silent_host_is_reported_once_its_request_had_its_time(setup):
    watch, conn, sup = setup
    scan(watch, conn, 101.0)  # asked at 101.0; heard last at 100.0
    assert scan(watch, conn, 102.9) == []  # quiet 2.9 s < 3 s
    assert scan(watch, conn, 103.1) == ["alpha"]
    (error,) = sup.reports
    assert error.code == "timeout" and "answered nothing for 3.1 s" in error.message


def test_a_request_sent_late_gets_its_grace_before_the_host_is_judged(setup):
    """The watch itself was away (the first scan after 100.0 is at 104.0): the host was asked
    only then, so it has silence - keepalive = 2 s to answer."""
    watch, conn, sup = setup
    assert scan(watch, conn, 104.0) == []
    assert scan(watch, conn, 105.5) == []
    assert scan(watch, conn, 106.1) == ["alpha"]


def test_unread_bytes_in_the_socket_or_a_late_scan_judge_no_one(setup):
    watch, conn, sup = setup
    scan(watch, conn, 101.0)
    conn.transport.peer.send(b"x")  # the reply arrived; this process has not read it yet
    assert scan(watch, conn, 104.0) == []
    conn.transport.sock.recv(1)
    assert scan(watch, conn, 104.1, judge=False) == []  # a scan that came late
    assert scan(watch, conn, 104.2) == ["alpha"]


def test_a_host_without_an_open_connection_is_left_to_its_supervisor(setup):
    watch, conn, sup = setup
    conn.transport, transport = None, conn.transport
    assert scan(watch, conn, 110.0) == [] and conn.pings == []
    transport.close()


def test_answer_times_are_handed_over_once_a_second_and_only_when_new(setup, monkeypatch):
    watch, conn, sup = setup
    handed: list[dict] = []
    watch.publish_heard = handed.append
    monkeypatch.setattr(liveness.time, "time", lambda: 1000.0 + conn.clock[0])
    scan(watch, conn, 100.5)
    watch._publish(100.5)
    assert handed == [{"alpha": 1100.0}]  # heard at monotonic 100.0 = wall 1100.0
    scan(watch, conn, 101.5)
    watch._publish(101.5)
    assert len(handed) == 1  # nothing new was heard
