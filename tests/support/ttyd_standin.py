"""A ttyd-compatible stand-in for tests (ttyd is in no registry CI can reach).

Speaks what RECON uses of ttyd 1.7: ``-i PATH.sock`` (UNIX socket), ``-b BASE``,
``-c user:pass`` (Basic auth on every request and the upgrade; the page's ``AuthToken``
checked too), ``-W`` (writable, read-only otherwise), ``-t key=value`` client options,
``-P SECONDS`` ping interval, ``-o`` (exit after the first client), ``-m N`` /
``--max-clients N`` (like ttyd's FILTER_PROTOCOL_CONNECTION check: while N WebSockets are
open, a further upgrade is refused before the handshake). It serves a small page at
``BASE/``, ``BASE/token`` and the ``tty`` WebSocket at ``BASE/ws``: the first message is
``{"AuthToken", "columns", "rows"}``; then client→server ``0``+input, ``1``+resize JSON,
``2`` pause, ``3`` resume; server→client ``0``+output, ``1`` title, ``2`` preferences. Each
WebSocket gets its own child in a new pty; pings go out every ``-P`` seconds and a client
that did not answer the previous one is dropped. SIGTERM ends it and its children.
"""

from __future__ import annotations

import binascii
import fcntl
import os
import selectors
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import termios
import threading
import time


def _site_packages() -> str:
    """The venv's site-packages: under ``-S`` no site.py ran to find it."""
    venv = os.path.dirname(os.path.dirname(sys.executable))
    if os.path.exists(os.path.join(venv, "pyvenv.cfg")):
        v = sys.version_info
        return os.path.join(venv, "lib", f"python{v.major}.{v.minor}", "site-packages")
    import sysconfig

    return sysconfig.get_paths()["purelib"]


# Started with `python -S` (no site: ~15 ms faster, no .pth processing); wsproto is found
# in the environment's site-packages and imported in the background after the socket is
# bound, so readiness is not delayed by it (RECON creates many of these in tests).
sys.path.append(_site_packages())
ws_ready = threading.Event()


def _import_wsproto() -> None:
    try:
        _do_import()
    finally:
        ws_ready.set()  # on failure the handler's NameError closes the connection


def _do_import() -> None:
    global ConnectionType, WSConnection, AcceptConnection, BytesMessage, CloseConnection
    global Message, Ping, Pong, RejectConnection, Request, TextMessage, json
    import json

    from wsproto import ConnectionType, WSConnection
    from wsproto.events import (
        AcceptConnection,
        BytesMessage,
        CloseConnection,
        Message,
        Ping,
        Pong,
        RejectConnection,
        Request,
        TextMessage,
    )


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>ttyd stand-in</title>
<style>html,body{margin:0;height:100%;background:#000;color:#ddd}
pre{margin:0;padding:4px;height:100%;overflow:auto;white-space:pre-wrap;
font:14px monospace}</style>
</head><body><pre id="out" tabindex="0"></pre><script>
const out = document.getElementById("out"), base = location.pathname.replace(/[/]+$/, "");
fetch(base + "/token").then(r => r.json()).then(t => {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") +
                           location.host + base + "/ws", ["tty"]);
  ws.binaryType = "arraybuffer";
  const dec = new TextDecoder(), enc = new TextEncoder();
  ws.onopen = () => ws.send(JSON.stringify({AuthToken: t.token, columns: 100, rows: 30}));
  ws.onmessage = e => {
    const d = new Uint8Array(e.data);
    if (d[0] === 48) {
      out.textContent += dec.decode(d.slice(1)).replace(/\\x1b\\[[0-9;?]*[A-Za-z]/g, "");
      out.scrollTop = out.scrollHeight;
    }
    else if (d[0] === 49) document.title = dec.decode(d.slice(1));
  };
  ws.onclose = () => { out.textContent += "\\r\\n[connection closed]"; };
  out.addEventListener("keydown", e => {
    let k = e.key.length === 1 ? e.key : ({Enter: "\\r", Backspace: "\\x7f", Tab: "\\t"})[e.key];
    if (e.ctrlKey && e.key.length === 1) {
      k = String.fromCharCode(e.key.toUpperCase().charCodeAt(0) - 64);
    }
    if (k) { ws.send(enc.encode("0" + k)); e.preventDefault(); }
  });
  out.focus();
});
</script></body></html>
"""


class Options:
    socket_path: str
    base: str
    credential: str | None
    writable: bool
    client_options: dict
    ping: float
    once: bool
    max_clients: int
    command: list[str]


def parse(argv: list[str]) -> Options:
    """ttyd's options (the subset RECON uses); the command starts at the first non-option."""
    o = Options()
    o.socket_path, o.base, o.credential, o.writable = "", "", None, False
    o.client_options, o.ping, o.once, o.max_clients = {}, 5.0, False, 0
    args = list(argv)
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag in ("-W", "--writable"):
            o.writable = True
        elif flag in ("-o", "--once"):
            o.once = True
        elif flag in ("-i", "-b", "-c", "-t", "-P", "-m", "--max-clients"):
            value = args.pop(0)
            if flag in ("-m", "--max-clients"):
                o.max_clients = int(value)
            elif flag == "-i":
                o.socket_path = value
            elif flag == "-b":
                o.base = value.rstrip("/")
            elif flag == "-c":
                o.credential = binascii.b2a_base64(value.encode(), newline=False).decode()
            elif flag == "-t":
                key, _, val = value.partition("=")
                o.client_options[key] = val
            else:
                o.ping = float(value)
        else:
            raise SystemExit(f"ttyd-standin: unsupported option {flag}")
    o.command = args
    if not o.socket_path.endswith(".sock") or not o.command:
        raise SystemExit("ttyd-standin: needs -i PATH.sock and a command")
    return o


OPTS: Options
CHILDREN: set[subprocess.Popen] = set()
CLIENTS = [0]  # open WebSockets
LOCK = threading.Lock()
STOP = threading.Event()


class Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk or len(data) > 65536:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = target.split("?", 1)[0]
        if OPTS.credential and headers.get("authorization") != "Basic " + OPTS.credential:
            return self.reply(401, b"unauthorized", "text/plain",
                              [("WWW-Authenticate", 'Basic realm="ttyd"')])
        if path == OPTS.base + "/ws" and headers.get("upgrade", "").lower() == "websocket":
            return self.websocket(sock, head + b"\r\n\r\n" + rest)
        if method not in ("GET", "HEAD"):
            return self.reply(405, b"method not allowed", "text/plain")
        if path == OPTS.base and OPTS.base:
            return self.reply(301, b"", "text/plain", [("Location", OPTS.base + "/")])
        if path == OPTS.base + "/":
            return self.reply(200, PAGE.encode(), "text/html; charset=utf-8")
        if path == OPTS.base + "/token":
            body = b'{"token": "%s"}' % (OPTS.credential or "").encode()  # base64: no escaping
            return self.reply(200, body, "application/json;charset=utf-8")
        return self.reply(404, b"not found", "text/plain")

    def reply(self, status: int, body: bytes, ctype: str, extra=()) -> None:
        reason = {200: "OK", 403: "Forbidden", 301: "Moved Permanently", 401: "Unauthorized",
                  404: "Not Found",
                  405: "Method Not Allowed"}[status]
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {ctype}",
                f"Content-Length: {len(body)}", "Connection: close",
                *(f"{k}: {v}" for k, v in extra)]
        self.request.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    # -- the tty WebSocket ----------------------------------------------------------------
    def websocket(self, sock: socket.socket, raw: bytes) -> None:
        ws_ready.wait()
        ws = WSConnection(ConnectionType.SERVER)
        ws.receive_data(raw)
        request = next(ws.events())
        assert isinstance(request, Request)
        if "tty" not in request.subprotocols:
            sock.sendall(ws.send(RejectConnection(status_code=400)))
            return
        with LOCK:
            full = OPTS.max_clients > 0 and CLIENTS[0] >= OPTS.max_clients
            if not full:
                CLIENTS[0] += 1
        if full:  # "refuse to serve WS client due to the --max-clients option"
            sock.sendall(ws.send(RejectConnection(status_code=403)))
            return
        sock.sendall(ws.send(AcceptConnection(subprotocol="tty")))
        try:
            Session(sock, ws).run()
        finally:
            with LOCK:
                CLIENTS[0] -= 1
        if OPTS.once:
            STOP.set()


def set_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


class Session:
    def __init__(self, sock: socket.socket, ws: WSConnection):
        self.sock, self.ws = sock, ws
        self.master: int | None = None
        self.child: subprocess.Popen | None = None
        self.paused = False
        self.pong_pending = False

    def send(self, event) -> None:
        self.sock.sendall(self.ws.send(event))

    def start(self, columns: int, rows: int) -> None:
        master, slave = os.openpty()
        set_size(slave, columns, rows)
        # setsid -c: a new session with the pty as controlling terminal (as forkpty does),
        # so the child gets SIGHUP when the master closes.
        child = subprocess.Popen(["setsid", "-c", *OPTS.command], stdin=slave, stdout=slave,
                                 stderr=slave, close_fds=True)
        os.close(slave)
        self.master, self.child = master, child
        with LOCK:
            CHILDREN.add(child)
        title = OPTS.client_options.get("titleFixed", " ".join(OPTS.command))
        self.send(BytesMessage(data=b"1" + title.encode()))
        self.send(BytesMessage(data=b"2" + json.dumps(OPTS.client_options).encode()))

    def on_message(self, data: bytes) -> None:
        if self.master is None:
            hello = json.loads(data)
            if OPTS.credential and hello.get("AuthToken") != OPTS.credential:
                raise PermissionError("bad AuthToken")
            self.start(int(hello.get("columns", 80)), int(hello.get("rows", 24)))
            return
        kind, payload = data[:1], data[1:]
        if kind == b"0" and OPTS.writable:
            os.write(self.master, payload)
        elif kind == b"1":
            size = json.loads(payload)
            set_size(self.master, int(size["columns"]), int(size["rows"]))
        elif kind == b"2":
            self.paused = True
        elif kind == b"3":
            self.paused = False

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ, "ws")
        next_ping = time.monotonic() + OPTS.ping
        buf = bytearray()
        code = 1000
        try:
            while True:
                if self.master is not None and sel.get_map().get(self.master) is None \
                        and not self.paused:
                    sel.register(self.master, selectors.EVENT_READ, "pty")
                for key, _ in sel.select(timeout=max(0.0, next_ping - time.monotonic())):
                    if key.data == "pty":
                        try:
                            out = os.read(self.master, 65536)
                        except OSError:
                            out = b""
                        if not out:
                            return  # the child closed the pty: close the WebSocket
                        self.send(BytesMessage(data=b"0" + out))
                        continue
                    data = self.sock.recv(65536)
                    if not data:
                        code = None
                        return
                    self.ws.receive_data(data)
                    for event in self.ws.events():
                        if isinstance(event, Message):
                            buf += event.data.encode() if isinstance(event, TextMessage) \
                                else event.data
                            if event.message_finished:
                                self.on_message(bytes(buf))
                                buf.clear()
                        elif isinstance(event, Ping):
                            self.send(event.response())
                        elif isinstance(event, Pong):
                            self.pong_pending = False
                        elif isinstance(event, CloseConnection):
                            self.send(event.response())
                            code = None
                            return
                if self.paused and self.master is not None and self.master in sel.get_map():
                    sel.unregister(self.master)
                if time.monotonic() >= next_ping:
                    if self.pong_pending:
                        code = 1008  # no pong for the last ping: drop the client
                        return
                    self.send(Ping(payload=b"standin"))
                    self.pong_pending = True
                    next_ping = time.monotonic() + OPTS.ping
        except (OSError, PermissionError, ValueError):
            code = 1011
        finally:
            sel.close()
            if code is not None:
                try:
                    self.send(CloseConnection(code=code))
                except Exception:
                    pass
            self.stop_child()

    def stop_child(self) -> None:
        if self.master is not None:
            os.close(self.master)  # hangs up the pty: the child's session gets SIGHUP
        if self.child is not None:
            try:
                self.child.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self.child.pid, signal.SIGKILL)
                self.child.wait()
            with LOCK:
                CHILDREN.discard(self.child)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main(argv: list[str]) -> None:
    global OPTS
    OPTS = parse(argv)
    if os.path.exists(OPTS.socket_path):
        os.unlink(OPTS.socket_path)
    server = Server(OPTS.socket_path, Handler)
    os.chmod(OPTS.socket_path, 0o660)
    threading.Thread(target=_import_wsproto, daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: STOP.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    while not STOP.wait(1.0):
        pass
    with LOCK:
        for child in CHILDREN:
            try:
                os.killpg(child.pid, signal.SIGHUP)
            except OSError:
                pass
        for child in CHILDREN:
            try:
                child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
    os.unlink(OPTS.socket_path)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
