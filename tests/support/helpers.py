"""Small helpers shared by the tests (no fixtures here: those live in conftest.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]  # the repository: tests/support/helpers.py


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


def wait_http(port: int, timeout: float = 20) -> None:
    """Wait until something accepts TCP on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def wait_healthy(request, proc, timeout: float, what: str) -> None:
    """Wait until ``request("GET", "/healthz")`` answers 200 while ``proc`` still runs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, f"no {what}"
        time.sleep(0.05)


class Gunicorn:
    """RECON under real gunicorn (``wsgi:app``, gthread) for a test app's config and
    database, as ``make run`` serves it: ``with Gunicorn(app, workers=2) as g: g.port``."""

    def __init__(self, app, *, workers: int = 1, threads: int = 8,
                 access_log: str | None = None, env: dict[str, str] | None = None,
                 error_log: str | None = None) -> None:
        import os
        import sys

        self.port = free_port()
        env = {**os.environ, "RECON_CONFIG": app.config["RECON_CONFIG"],
               "RECON_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
               "RECON_SECRET_KEY": "test", "PYTHONUNBUFFERED": "1", **(env or {})}
        from recon.entry.serve import KEEPALIVE_SECONDS  # as make run serves
        self.argv = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads",
                     str(threads), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                     "--keep-alive", str(KEEPALIVE_SECONDS)]
        if access_log:
            self.argv += ["--access-logfile", access_log, "--access-logformat", "%(p)s %(r)s"]
        self.argv.append("wsgi:app")
        self.env = env
        self.error_log = error_log  # the server's own log (stderr), else discarded
        self.proc = None

    def start(self) -> Gunicorn:
        """Start it and wait until it accepts connections (``stop()`` ends it)."""
        import subprocess

        from recon.core.children import spawn_bound

        err = open(self.error_log, "ab") if self.error_log else subprocess.DEVNULL  # noqa: SIM115
        try:
            # Bound to pytest: if the run is killed, the server goes too.
            self.proc = spawn_bound(self.argv, cwd=ROOT, env=self.env, start_new_session=True,
                                    stdout=subprocess.DEVNULL, stderr=err)
        finally:
            if self.error_log:
                err.close()
        wait_http(self.port)
        return self

    __enter__ = start

    def kill(self, sig: int | None = None) -> None:
        import os
        import signal

        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig or signal.SIGTERM)
            try:
                self.proc.wait(10)
            except Exception:  # noqa: BLE001 - escalate whatever kept it alive
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def stop(self) -> None:
        self.kill()

    def __exit__(self, *exc: object) -> None:
        self.kill()
