"""A minimal client of ttyd's ``tty`` WebSocket protocol (what ttyd's page does): the JSON
hello, input frames ``0...``, output frames ``0...``; over TCP (RECON's proxy) or straight to
ttyd's UNIX socket."""

from __future__ import annotations

import base64
import json
import socket
import time

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)


def basic(credential: str) -> str:
    return "Basic " + base64.b64encode(credential.encode()).decode()


class Tty:
    def __init__(self, sock: socket.socket, host: str, target: str, headers: dict):
        self.sock, self.ws = sock, WSConnection(ConnectionType.CLIENT)
        self.output = bytearray()
        self.frames = 0  # output messages received
        self._buf = bytearray()
        sock.settimeout(15)
        sock.sendall(self.ws.send(Request(host=host, target=target, subprotocols=["tty"],
                                          extra_headers=list(headers.items()))))
        while True:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed during the handshake")
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    return
                if isinstance(event, RejectConnection):
                    raise ConnectionError(f"WebSocket refused: {event.status_code}")

    @classmethod
    def via_proxy(cls, port: int, path: str, token: str) -> Tty:
        sock = socket.create_connection(("127.0.0.1", port))
        return cls(sock, f"127.0.0.1:{port}", path, {"Authorization": f"Bearer {token}",
                                                     "Origin": f"http://127.0.0.1:{port}"})

    @classmethod
    def direct(cls, socket_path: str, path: str, credential: str) -> Tty:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(socket_path)
        return cls(sock, "localhost", path, {"Authorization": basic(credential)})

    def hello(self, token: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(
            data=json.dumps({"AuthToken": token, "columns": 120, "rows": 40}))))

    def send_input(self, text: str) -> None:
        self.sock.sendall(self.ws.send(BytesMessage(data=b"0" + text.encode())))

    def pump(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 20)
        except TimeoutError:
            return
        if not data:
            raise ConnectionError("terminal closed")
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, Message):
                self._buf += event.data if isinstance(event.data, bytes) else event.data.encode()
                if event.message_finished:
                    if self._buf[:1] == b"0":
                        self.output += self._buf[1:]
                        self.frames += 1
                    self._buf.clear()
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))

    def read_until(self, needle: bytes, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{needle!r} not seen: {bytes(self.output[-300:])!r}")
            self.pump(0.5)

    def close(self) -> None:
        try:
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        except OSError:
            pass
        self.sock.close()
