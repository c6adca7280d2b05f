"""Fixtures and helpers for the terminal tests: the ttyd stand-in, short GC intervals, a
real threaded HTTP server around the app, and a small ``tty`` WebSocket client (wsproto)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from recon.auth.accounts import create_token

STANDIN = Path(__file__).with_name("ttyd_standin.py")
PING_SECONDS = 1.0  # the stand-in pings this often (real ttyd: 5 s); a client silent past
# the next ping is dropped: 0.3 s dropped healthy browsers on a loaded CI machine


@pytest.fixture(scope="session")
def standin() -> Iterator[Path]:
    """An executable ``ttyd`` that runs the stand-in (its pid and argv are the stand-in's).

    ``RECON_TEST_TTYD=/path/to/ttyd`` runs the terminal tests against that binary instead
    (a real ttyd built from source): tests that rely on the stand-in's 1 s pings skip."""
    real = os.environ.get("RECON_TEST_TTYD")
    if real:
        yield Path(real)
        return
    d = Path(tempfile.mkdtemp(prefix="ttyd-"))
    path = d / "ttyd"
    path.write_text(f'#!/bin/sh\nexec {sys.executable} -S {STANDIN} -P {PING_SECONDS} "$@"\n')
    path.chmod(0o755)
    yield path
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A short socket directory (sun_path holds 107 bytes; pytest's tmp paths are long)."""
    d = Path(tempfile.mkdtemp(prefix="rt-"))
    yield d / "run"
    left = ttyd_pids(d)
    if left:  # a ttyd of this test still runs: end it with its folder, and say so
        from recon.demo import procs

        warnings.warn(f"ttyd left running by the test, ended: {[procs.cmdline(p) for p in left]}",
                      pytest.PytestWarning, stacklevel=1)
        procs.terminate(left)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def term_env(monkeypatch, standin: Path, run_dir: Path) -> dict[str, str]:
    """RECON_* settings for fast terminal tests; a test may change them before make_app."""
    env = {
        "RECON_TTYD_PATH": str(standin),
        "RECON_TERMINAL_RUN_DIR": str(run_dir),
        "RECON_TERMINAL_GC_SECONDS": "0.3",
        "RECON_TERMINAL_HEARTBEAT_SECONDS": "1",
        "RECON_TERMINAL_IDLE_SECONDS": "60",
        "RECON_TERMINAL_TTL_SECONDS": "600",
        "RECON_TERMINAL_START_TIMEOUT_SECONDS": "10",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def term_app(make_app, target_info, term_env) -> Iterator[Flask]:
    app = make_app([target_info])
    yield app
    close_all(app)


def close_all(app: Flask) -> None:
    """Close every open session of ``app`` (the test's own cleanup)."""
    from recon.terminals import manager

    with app.app_context():
        for sess in manager.open_sessions():
            manager.close(sess.id, "shutdown")


def token_for(app: Flask, name: str, role: str = "operator") -> str:
    """A new API token; its principal is ``token:<name>``."""
    with app.app_context():
        return create_token(name, role)[1]


class LiveServer:
    """The app under werkzeug's threaded server on 127.0.0.1 (real sockets, real threads)."""

    def __init__(self, app: Flask):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def request(self, method: str, path: str, token: str | None = None, body=None,
                headers: dict | None = None) -> tuple[int, dict | bytes, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            ctype = resp.getheader("Content-Type", "")
            out = json.loads(raw) if ctype.startswith("application/json") and raw else raw
            return resp.status, out, dict(resp.getheaders())
        finally:
            conn.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live(term_app) -> Iterator[LiveServer]:
    server = LiveServer(term_app)
    yield server
    server.stop()


class Rejected(Exception):
    def __init__(self, status: int, body: bytes):
        super().__init__(f"WebSocket upgrade refused: {status} {body[:200]!r}")
        self.status, self.body = status, body


class TtyClient:
    """A browser-like client of the ``tty`` WebSocket: answers pings (unless told not to),
    collects output frames (``0``...), sends input (``0``...) and resizes (``1``...)."""

    def __init__(self, sock: socket.socket, ws: WSConnection, answer_pings: bool = True):
        self.sock, self.ws, self.answer_pings = sock, ws, answer_pings
        self.output = bytearray()
        self.frames: list[bytes] = []
        self.closed: CloseConnection | None = None
        self.pings = 0
        self._buf = bytearray()

    @classmethod
    def connect(cls, url: str, headers: dict | None = None, origin: str | None = "same",
                subprotocols=("tty",), answer_pings: bool = True,
                timeout: float = 10.0, context=None) -> TtyClient:
        """``context``: an ``ssl.SSLContext`` for an ``https://`` URL (e.g. through nginx)."""
        parts = urlsplit(url)
        if parts.scheme == "unix":  # unix://<socket path>#<target>: straight to ttyd
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(parts.path)
            host, target = "localhost", parts.fragment
        else:
            sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
            if parts.scheme == "https":
                sock = context.wrap_socket(sock, server_hostname=parts.hostname)
            host, target = parts.netloc, parts.path
        sock.settimeout(timeout)
        extra = [(k, v) for k, v in (headers or {}).items()]
        if origin == "same":
            origin = f"{parts.scheme}://{parts.netloc}"
        if origin:
            extra.append(("Origin", origin))
        ws = WSConnection(ConnectionType.CLIENT)
        sock.sendall(ws.send(Request(host=host, target=target, subprotocols=list(subprotocols),
                                     extra_headers=extra)))
        status, body = 0, b""
        while True:
            data = sock.recv(65536)
            if not data:
                sock.close()
                raise Rejected(status, body)
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    client = cls(sock, ws, answer_pings)
                    client.subprotocol = event.subprotocol
                    return client
                if isinstance(event, RejectConnection):
                    status = event.status_code
                    if not event.has_body:
                        sock.close()
                        raise Rejected(status, b"")
                elif isinstance(event, RejectData):
                    body += event.data
                    if event.body_finished:
                        sock.close()
                        raise Rejected(status, body)

    def hello(self, token: str, columns: int = 120, rows: int = 40) -> None:
        self.send_text(json.dumps({"AuthToken": token, "columns": columns, "rows": rows}))

    def send_text(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def send_input(self, text: str) -> None:
        self.sock.sendall(self.ws.send(BytesMessage(data=b"0" + text.encode())))

    def pump(self, timeout: float) -> bool:
        """Read what arrives within ``timeout``; False once the connection closed."""
        if self.closed:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 20)
        except TimeoutError:
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = CloseConnection(code=1006)
            return False
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, Message):
                self._buf += event.data if isinstance(event.data, bytes) else event.data.encode()
                if event.message_finished:
                    frame = bytes(self._buf)
                    self._buf.clear()
                    self.frames.append(frame[:256])
                    if frame[:1] == b"0":
                        self.output += frame[1:]
            elif isinstance(event, Ping):
                self.pings += 1
                if self.answer_pings:
                    self.sock.sendall(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self.closed = event
                try:
                    self.sock.sendall(self.ws.send(event.response()))
                except Exception:
                    pass
                return False
        return True

    def read_until(self, needle: bytes, timeout: float = 10.0) -> bytes:
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(min(left, 0.5)):
                if needle in self.output:
                    break
                raise AssertionError(f"{needle!r} not seen; got {bytes(self.output[-500:])!r} "
                                     f"closed={self.closed}")
        return bytes(self.output)

    def wait_closed(self, timeout: float = 10.0) -> CloseConnection | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pump(0.2):
            pass
        return self.closed

    def close(self) -> None:
        try:
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        except Exception:
            pass
        self.sock.close()


def open_terminal(live: LiveServer, token: str, host: str = "demo", mode: str = "shell"
                  ) -> dict:
    status, body, _ = live.request("POST", "/api/terminals", token, {"host": host, "mode": mode})
    assert status in (200, 201), body
    return body["session"]


def attach(live: LiveServer, token: str, session: dict, **kw) -> TtyClient:
    """Do what ttyd's page does: fetch /token, open the WebSocket, send the hello."""
    status, tok, _ = live.request("GET", session["url"] + "tty/token", token)
    assert status == 200, tok
    client = TtyClient.connect(live.url + session["url"] + "tty/ws",
                               headers={"Authorization": f"Bearer {token}"}, **kw)
    client.hello(tok["token"])
    return client


def ttyd_pids(run_dir: Path) -> list[int]:
    """Live (non-zombie) ttyds listening in the run dir (``-i <run dir>/...``), left behind
    or not (their shells' wrappers also name the run dir, as where ssh's ending goes)."""
    from recon.demo import procs

    return procs.with_cmdline(f"-i {run_dir}")


def zombies_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[-1].split()
        if fields[0] == b"Z" and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def basic(credential: str) -> str:
    return "Basic " + base64.b64encode(credential.encode()).decode()
