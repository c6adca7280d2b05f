"""Small helpers shared by the tests (no fixtures here: those live in conftest.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` passes
    (its last value is returned, so ``assert wait_for(...)`` fails with it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class Tarpit:
    """Accepts TCP and never speaks SSH (with ``banner``: sends an SSH banner, then stalls)."""

    def __init__(self, banner: bool = False) -> None:
        self.banner = banner
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(200)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn = self.sock.accept()[0]
            except OSError:
                continue
            if self.banner:
                try:
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 stalled\r\n")
                except OSError:
                    pass
            self.held.append(conn)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        for s in self.held:
            s.close()
