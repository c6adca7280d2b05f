"""The sshd banner probe (recon.ssh.banner) against small local servers: a banner (after other
lines, too) is fine and answered with our version line; a closed port, a silent listener, one
that hangs up and one that is not SSH each say what is wrong."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from recon.ssh.banner import CLIENT_VERSION, banner_problem


class Server:
    """A listener on 127.0.0.1 that does ``behave(conn)`` with each connection."""

    def __init__(self, behave) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = b""
        self.behave = behave
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.behave(self, conn)

    def close(self) -> None:
        self.sock.close()


def sshd(server: Server, conn: socket.socket) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    conn.settimeout(2)
    try:
        server.got = conn.recv(100)
    except OSError:
        pass


@pytest.fixture
def serve():
    servers: list[Server] = []

    def make(behave) -> Server:
        servers.append(Server(behave))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def test_a_banner_is_fine_and_answered_with_our_version_line(serve):
    server = serve(sshd)
    assert banner_problem("127.0.0.1", server.port, 2) is None
    time.sleep(0.1)
    assert server.got == CLIENT_VERSION


def test_lines_before_the_version_line_are_allowed(serve):
    def chatty(server, conn):
        conn.sendall(b"Welcome\r\nto a host\r\n")
        time.sleep(0.05)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        time.sleep(0.1)

    assert banner_problem("127.0.0.1", serve(chatty).port, 2) is None


def test_a_closed_port_is_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # bound and never listening: refuses, and stays ours
        assert banner_problem("127.0.0.1", s.getsockname()[1], 2) == "connection refused"


def test_a_silent_listener_times_out_within_the_timeout(serve):
    server = serve(lambda s, conn: time.sleep(2))
    started = time.monotonic()
    assert banner_problem("127.0.0.1", server.port, 0.3) == (
        "accepted TCP but sent no SSH banner within 0.3 s")
    assert time.monotonic() - started < 1.0


def test_a_listener_that_hangs_up_or_is_not_ssh_says_so(serve):
    hangs_up = serve(lambda s, conn: None)
    assert banner_problem("127.0.0.1", hangs_up.port, 2).startswith(
        "closed new connections without an SSH banner")

    def http(server, conn):
        conn.sendall(b"x" * 10000)
        time.sleep(0.2)

    assert banner_problem("127.0.0.1", serve(http).port, 2) == (
        "sent no SSH banner (something else listens on the port)")
