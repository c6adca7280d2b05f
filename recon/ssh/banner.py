"""Does sshd still accept new connections? A TCP connect and the SSH banner, no login.

A host's existing connection outlives the sshd that accepted it (Debian's ssh.service has
KillMode=process), so a host whose sshd stopped, or whose listener is wedged (MaxStartups
full, a stuck process), keeps answering the monitor while every *new* connection -- a
terminal, a log stream from another worker, a reconnect after a blip -- fails. This probe
opens a new TCP connection, reads the version line the server sends first (RFC 4253 4.2),
answers with its own and closes: one round trip, no key exchange, no authentication, so it
costs the host next to nothing and never counts as a failed login.
"""

from __future__ import annotations

import socket
import time

CLIENT_VERSION = b"SSH-2.0-RECON_probe\r\n"
MAX_BANNER_BYTES = 8192  # RFC 4253 allows lines before the version line; not unbounded


def banner_problem(address: str, port: int, timeout: float) -> str | None:
    """None when the server at ``address:port`` sends an SSH version line within
    ``timeout`` seconds; otherwise what went wrong, in words ("connection refused", "no SSH
    banner within 3 s", ...)."""
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except TimeoutError:
        return f"no TCP answer within {timeout:g} s"
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    with sock:
        try:
            problem = _read_version(sock, deadline)
        except TimeoutError:
            return f"accepted TCP but sent no SSH banner within {timeout:g} s"
        except OSError as exc:
            return f"dropped the connection before its banner ({exc.strerror or exc})"
        if problem is None:
            _goodbye(sock)
        return problem


def _read_version(sock: socket.socket, deadline: float) -> str | None:
    """Read lines until the version line (None) or a reason why there is none."""
    data, total = b"", 0
    while True:
        *lines, data = data.split(b"\n")
        if any(line.startswith(b"SSH-") for line in lines):
            return None
        if total > MAX_BANNER_BYTES:
            return "sent no SSH banner (something else listens on the port)"
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(1024)
        if not chunk:
            return "closed new connections without an SSH banner (MaxStartups full?)"
        data += chunk
        total += len(chunk)


def _goodbye(sock: socket.socket) -> None:
    """Answer with our own version line before closing: sshd then logs an ordinary closed
    connection rather than a banner exchange that went wrong."""
    try:
        sock.sendall(CLIENT_VERSION)
    except OSError:
        pass
