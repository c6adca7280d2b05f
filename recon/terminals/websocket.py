"""WebSocket plumbing of the terminal proxy, on wsproto (the sans-IO protocol library).

The browser's side is taken over from the WSGI server (gunicorn's gthread worker or
werkzeug) only after every check passed and ttyd accepted the upstream handshake, so a
refusal is always a plain HTTP answer. Then one thread relays frames both ways: data
messages as they come (fragments included), pings and pongs passed through untouched in
both directions (ttyd drops a client that does not answer its pings; the browser answers),
close frames forwarded.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from flask import Response
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import ProtocolError

from recon.core.errors import ReconError

SUBPROTOCOL = "tty"
SEND_TIMEOUT = 30.0  # a peer that takes no data for this long is gone
RECV_BYTES = 256 * 1024
_UPGRADE_HEADERS = ("host", "connection", "upgrade", "sec-websocket-key",
                    "sec-websocket-version", "sec-websocket-protocol")


class HandshakeError(ReconError):
    """A WebSocket upgrade that cannot go ahead (400: the client's; 502: ttyd's)."""

    code = "bad_upgrade"
    hint = "Connect with a WebSocket client offering the 'tty' subprotocol."

    def __init__(self, status: int, message: str):
        super().__init__(message, status=status)


def server_socket(environ: dict) -> tuple[socket.socket, str] | None:
    """The client's socket and the server's name, for the servers RECON runs under."""
    for key, mode in (("gunicorn.socket", "gunicorn"), ("werkzeug.socket", "werkzeug")):
        sock = environ.get(key)
        if sock is not None:
            return sock, mode
    return None


def parse_upgrade(environ: dict) -> WSConnection:
    """Validate the browser's upgrade request (wsproto checks key, version, headers)."""
    headers = []
    for name in _UPGRADE_HEADERS:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value is not None:
            headers.append((name.encode(), value.encode("latin-1")))
    ws = WSConnection(ConnectionType.SERVER)
    try:
        ws.initiate_upgrade_connection(headers, environ.get("PATH_INFO", "/").encode("latin-1"))
        request = next(iter(ws.events()), None)
    except ProtocolError as exc:
        raise HandshakeError(400, f"bad WebSocket upgrade: {exc}") from None
    if not isinstance(request, Request):
        raise HandshakeError(400, "bad WebSocket upgrade")
    if SUBPROTOCOL not in request.subprotocols:
        raise HandshakeError(400, f"the WebSocket must offer the {SUBPROTOCOL!r} subprotocol")
    return ws


def accept(sock: socket.socket, ws: WSConnection) -> None:
    """Answer 101 on the browser's socket."""
    sock.settimeout(SEND_TIMEOUT)
    sock.sendall(ws.send(AcceptConnection(subprotocol=SUBPROTOCOL)))


def connect_upstream(path: str, target: str, authorization: str,
                     timeout: float = 5.0) -> tuple[socket.socket, WSConnection, list[Event]]:
    """Open ttyd's WebSocket on its UNIX socket; returns socket, connection, early events."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        ws = WSConnection(ConnectionType.CLIENT)
        sock.sendall(ws.send(Request(
            host="localhost", target=target, subprotocols=[SUBPROTOCOL],
            extra_headers=[(b"authorization", authorization.encode())])))
        while True:
            data = sock.recv(RECV_BYTES)
            if not data:
                raise HandshakeError(502, "ttyd closed the connection during the handshake")
            ws.receive_data(data)
            events = list(ws.events())
            for i, event in enumerate(events):
                if isinstance(event, AcceptConnection):
                    sock.settimeout(SEND_TIMEOUT)
                    return sock, ws, events[i + 1:]
                if isinstance(event, RejectConnection):
                    raise HandshakeError(502, f"ttyd refused the WebSocket ({event.status_code})")
    except BaseException:
        sock.close()
        raise


class Tap(Protocol):
    """What the relay tells an observer of its data (:class:`recon.recordings.tap.Tap`)."""

    def message(self, side: str, data: bytes | str, finished: bool) -> None: ...

    def tick(self) -> None: ...


class Relay:
    """Frames between the browser (``down``) and ttyd (``up``) until either side ends."""

    def __init__(self, down: socket.socket, down_ws: WSConnection, up: socket.socket,
                 up_ws: WSConnection, on_activity: Callable[[], None],
                 activity_interval: float, revoked: Callable[[], bool] | None = None,
                 revoke_interval: float = 1.0, tap: Tap | None = None):
        self.revoked, self.revoke_interval = revoked, revoke_interval
        self.tap = tap  # sees every data message piece (the recording); None: nobody
        self.ended_by: str | None = None  # "up" (ttyd/the shell), "down" (browser), "revoked"
        self.socks = {"down": down, "up": up}
        self.conns = {"down": down_ws, "up": up_ws}
        self.on_activity = on_activity
        self.interval = activity_interval
        self.active = True  # the connection itself counts as activity
        self.bytes = {"down": 0, "up": 0}

    def run(self, early_up_events: Iterable[Event] = ()) -> None:
        sel = selectors.DefaultSelector()
        try:
            for side, sock in self.socks.items():
                sel.register(sock, selectors.EVENT_READ, side)
            going = self._forward("up", "down", early_up_events)
            last_flush = last_check = time.monotonic()
            wait = min(self.interval, self.revoke_interval) if self.revoked else self.interval
            while going:
                for key, _ in sel.select(timeout=wait):
                    going = self._pump(key.data)
                    if not going:
                        break
                if self.tap is not None:
                    self.tap.tick()
                now = time.monotonic()
                if going and self.revoked is not None \
                        and now - last_check >= self.revoke_interval:
                    last_check = now
                    going = not self._end_if_revoked()
                if self.active and now - last_flush >= self.interval:
                    self.active, last_flush = False, now
                    self.on_activity()
        except (OSError, ProtocolError):
            pass  # a peer went away mid-frame or broke the protocol: both sides end
        finally:
            sel.close()

    def _pump(self, side: str) -> bool:
        """One read from ``side``, relayed to the other; False when the relay ends."""
        other = "up" if side == "down" else "down"
        try:
            data = self.socks[side].recv(RECV_BYTES)
        except (ConnectionError, TimeoutError):
            data = b""
        if not data:
            return self._gone(side, other)
        self.bytes[side] += len(data)
        self.conns[side].receive_data(data)
        return self._forward(side, other, self.conns[side].events())

    def _end_if_revoked(self) -> bool:
        """Close both sides when the session was closed elsewhere; True if it was."""
        if not self.revoked():
            return False
        self.ended_by = "revoked"
        self._end_both(1008, "terminal closed")
        return True

    def _end_both(self, code: int, reason: str) -> None:
        """Close both sides from the middle (the session was closed or its login ended)."""
        for side in ("down", "up"):
            out = bytearray()
            self._frame(side, CloseConnection(code=code, reason=reason), out)
            try:
                if out:
                    self.socks[side].sendall(out)
            except OSError:
                pass

    def _frame(self, side: str, event: Event, out: bytearray) -> None:
        conn = self.conns[side]
        if conn.state is ConnectionState.OPEN or (
                isinstance(event, CloseConnection)
                and conn.state is ConnectionState.REMOTE_CLOSING):
            out += conn.send(event)

    def _forward(self, src: str, dst: str, events: Iterable[Event]) -> bool:
        """Re-frame ``events`` from ``src`` for ``dst``; one write per side per read."""
        out, back = bytearray(), bytearray()
        going = True
        for event in events:
            if isinstance(event, Message):
                self.active = True
                if self.tap is not None:
                    self.tap.message(src, event.data, event.message_finished)
                kind = TextMessage if isinstance(event, TextMessage) else BytesMessage
                self._frame(dst, kind(data=event.data, message_finished=event.message_finished),
                            out)
            elif isinstance(event, Ping):
                self._frame(dst, Ping(payload=event.payload), out)
            elif isinstance(event, Pong):
                self._frame(dst, Pong(payload=event.payload), out)
            elif isinstance(event, CloseConnection):
                self.ended_by = self.ended_by or src
                self._frame(src, event.response(), back)
                self._frame(dst, CloseConnection(code=event.code, reason=event.reason), out)
                going = False
                break
        if out:
            self.socks[dst].sendall(out)
        if back:
            self.socks[src].sendall(back)
        return going

    def _gone(self, side: str, other: str) -> bool:
        """A socket ended without a close frame: tell the other side."""
        self.ended_by = self.ended_by or side
        out = bytearray()
        self._frame(other, CloseConnection(code=1001 if side == "down" else 1011,
                                           reason="peer went away"), out)
        if out:
            self.socks[other].sendall(out)
        return False


class Hijacked(Response):
    """Returned by the view after the relay ended: the socket belongs to nobody any more,
    so the server must neither write a response nor reuse the connection."""

    def __init__(self, sock: socket.socket, mode: str):
        super().__init__()
        self.sock, self.mode = sock, mode

    def __call__(self, environ, start_response):  # type: ignore[override]
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self.mode == "gunicorn":
            raise StopIteration()  # gthread: "closing connection", no response written
        raise ConnectionAbortedError("WebSocket finished")  # werkzeug: connection dropped
