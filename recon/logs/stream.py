"""Live follow: ``journalctl -f`` on one long-lived SSH channel, relayed as Server-Sent Events.

Streams ride on their own transports, not the executor's: sshd allows 10 sessions per
connection (MaxSessions) and the executor already keeps up to ``max_channels`` of them
busy, so long-lived streams there would refuse commands, or be refused. Here each transport
carries at most ``PER_TRANSPORT`` streams and another one is opened when it is full.

The remote command runs on a pty: when the channel closes, sshd hangs the pty up and the
remote sudo/journalctl get SIGHUP, so nothing keeps following on the host. A remote
``timeout --foreground`` bounds a stream's life anyway (the browser then resumes from its
``Last-Event-ID``). The client going away is noticed by watching the client's socket for
EOF (gunicorn and werkzeug both expose it), so the channel closes at once rather than at the
next write. A stream whose login ends (``ended`` is set: see :mod:`recon.web.slots`) ends with
an ``error`` event (``access_ended``) within ``POLL_SECONDS``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import paramiko

from recon.config import HostConfig
from recon.core.waits import wait_readable
from recon.logs.parse import Clock, parse_json_line, parse_text_line
from recon.logs.query import Mode
from recon.ssh import HostKeyStore, Unreachable
from recon.ssh.connection import Connection
from recon.ssh.errors import is_sudo_refusal
from recon.ssh.executor import remote_command
from recon.web.sse import access_ended, client_gone, sse

PER_TRANSPORT = 8
POLL_SECONDS = 1.0
NOTE_CAP = 4096
RETRY_MS = 2000
FAILED_RETRY_MS = 30000


@dataclass
class _Pooled:
    conn: Connection
    streams: int = 0


@dataclass
class StreamHub:
    """Bounds on concurrent streams (per process, per service) and their transports."""

    keys: HostKeyStore
    max_total: int
    max_per_service: int
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _by_service: Counter = field(default_factory=Counter)
    _pools: dict[tuple, list[_Pooled]] = field(default_factory=dict)

    @property
    def active(self) -> int:
        with self._lock:
            return sum(self._by_service.values())

    def acquire(self, slug: str) -> str | None:
        """Take a stream slot for ``slug``; returns why not (a message) if over a bound."""
        with self._lock:
            total = sum(self._by_service.values())
            if total >= self.max_total:
                return (f"{total} log streams are open in this dashboard process, the "
                        f"maximum (log_streams_max = {self.max_total})")
            if self._by_service[slug] >= self.max_per_service:
                return (f"{self._by_service[slug]} log streams of {slug} are open, the maximum "
                        f"per service (log_streams_per_service = {self.max_per_service})")
            self._by_service[slug] += 1
            return None

    def release(self, slug: str) -> None:
        with self._lock:
            self._by_service[slug] -= 1
            if self._by_service[slug] <= 0:
                del self._by_service[slug]

    def open_channel(self, host: HostConfig, deadline: float) -> tuple[paramiko.Channel,
                                                                       _Pooled]:
        """A new session channel on a stream transport with room left."""
        key = host.connection_key
        with self._lock:
            pool = self._pools.setdefault(key, [])
            slot = next((p for p in pool if p.streams < PER_TRANSPORT), None)
            if slot is None:
                slot = _Pooled(Connection(host, self.keys))
                pool.append(slot)
            slot.streams += 1
        try:
            return slot.conn.open_channel(deadline), slot
        except BaseException:
            self._done(key, slot)
            raise

    def close_channel(self, host: HostConfig, channel: paramiko.Channel, slot: _Pooled) -> None:
        try:
            channel.close()
        finally:
            self._done(host.connection_key, slot)

    def _done(self, key: tuple, slot: _Pooled) -> None:
        """One stream fewer on ``slot``; an emptied transport beyond a host's first closes."""
        with self._lock:
            slot.streams -= 1
            pool = self._pools.get(key, [])
            idle = slot.streams == 0 and pool and pool[0] is not slot
            if idle:
                pool.remove(slot)
        if idle:
            slot.conn.close()

    def open_channels(self) -> int:
        """Channels still open on the stream transports (as Paramiko counts them)."""
        with self._lock:
            conns = [p.conn for pool in self._pools.values() for p in pool]
        count = 0
        for conn in conns:
            transport = conn._transport
            if transport is not None and transport.is_active():
                count += sum(1 for ch in transport._channels.values() if not ch.closed)
        return count

    def close_all(self) -> None:
        with self._lock:
            conns = [p.conn for pool in self._pools.values() for p in pool]
            self._pools.clear()
        for conn in conns:
            conn.close()


class LogStream:
    """One open follow: a running remote journalctl and the SSE events made from it."""

    def __init__(self, hub: StreamHub, slug: str, host: HostConfig, mode: Mode,
                 keepalive: float, client: socket.socket | None,
                 ended: threading.Event | None = None,
                 configured: Callable[[], bool] = lambda: True):
        self.hub, self.slug, self.host, self.mode = hub, slug, host, mode
        self.keepalive, self.client = keepalive, client
        self.ended = ended or threading.Event()  # set: the login behind the stream ended
        self.configured = configured  # False once a config reload removed the service
        self.channel: paramiko.Channel | None = None
        self._slot: _Pooled | None = None
        self._closed = False
        self._close_lock = threading.Lock()
        self._notes: list[str] = []
        self._clock = Clock()

    def start(self, argv: list[str], max_seconds: float) -> None:
        """Open the channel (pty) and start ``argv``. The stream's slot is already held;
        on any failure it is given back before the error propagates."""
        try:
            deadline = time.monotonic() + self.host.connect_timeout + 2
            self.channel, self._slot = self.hub.open_channel(self.host, deadline)
            self.channel.get_pty(term="dumb", width=1000, height=50)  # dumb: no colours
            self.channel.exec_command(remote_command(argv, max_seconds, foreground=True))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise Unreachable(f"could not start journalctl on {self.host.name}: {exc}",
                              host=self.host.name) from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the channel and give the slot back; safe to call more than once."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self.channel is not None and self._slot is not None:
                self.hub.close_channel(self.host, self.channel, self._slot)
        finally:
            self.hub.release(self.slug)

    # -- the event loop --------------------------------------------------------------------
    def _client_gone(self) -> bool:
        gone = client_gone(self.client)
        if gone is None:
            self.client = None  # cannot tell (or it sent something): rely on writes
        return bool(gone)

    def _events(self, raw_lines: list[bytes]) -> str:
        out = []
        for raw in raw_lines:
            text = raw.decode("utf-8", "replace").rstrip("\r")
            if not text.strip():
                continue
            line = (parse_json_line(text, self._clock) if self.mode == "json"
                    else parse_text_line(text))
            if line is None or line["ts"] is None:
                # Not journal output: sudo's or journalctl's own words (the pty merges
                # stderr into stdout). Kept for the error event if the command then fails.
                if sum(len(n) for n in self._notes) < NOTE_CAP:
                    self._notes.append(text)
                if line is None:
                    out.append(sse({"message": text}, event="notice"))
                    continue
            out.append(sse(line, id=line.get("cursor")))
        return "".join(out)

    def _end(self) -> str:
        assert self.channel is not None
        self.channel.status_event.wait(2)
        code = self.channel.exit_status if self.channel.exit_status_ready() else None
        notes = "\n".join(self._notes)[:NOTE_CAP]
        if code == 124:
            return sse({"reason": "max_duration", "message": "the stream reached its maximum "
                        "duration; reconnect with Last-Event-ID to resume"}, event="end")
        if is_sudo_refusal(code, notes):
            error, hint = "sudo_password_required", (
                "The host's sudoers rule does not allow RECON's journalctl command; compare it "
                "with `flask --app wsgi recon sudoers SLUG`.")
        else:
            error, hint = "command_failed", "journalctl on the host stopped; see the message."
        # A failure that a reconnect will not fix: ask EventSource to wait before retrying.
        return f"retry: {FAILED_RETRY_MS}\n" + sse(
            {"error": error, "exit_code": code, "hint": hint,
             "message": notes or f"journalctl exited {code}"}, event="error")

    def events(self) -> Iterator[str]:
        """The SSE body. Ends when the client leaves, the remote journalctl ends, the
        connection drops or the login ends; the channel is closed in every case."""
        assert self.channel is not None
        channel, buf = self.channel, b""
        try:
            yield f"retry: {RETRY_MS}\n: following {self.slug}\n\n"
            last_write = time.monotonic()
            while not self._closed:
                if self.ended.is_set():
                    yield access_ended()
                    return
                if not self.configured():
                    yield f"retry: {FAILED_RETRY_MS}\n" + sse(
                        {"error": "service_removed", "message": f"{self.slug} is no longer "
                         "managed: recon.toml was changed and no longer lists it",
                         "hint": "Reload the page to see the services RECON manages now."},
                        event="error")
                    return
                client_fd = self.client.fileno() if self.client is not None else None
                watch = [channel.fileno()] + ([client_fd] if client_fd is not None else [])
                wait = min(POLL_SECONDS, max(0.0, last_write + self.keepalive - time.monotonic()))
                ready = wait_readable(watch, wait)
                if client_fd is not None and client_fd in ready and self._client_gone():
                    return
                chunk = ""
                if channel.recv_ready():
                    buf += channel.recv(65536)
                    *complete, buf = buf.split(b"\n")
                    chunk = self._events(complete)
                elif not channel.get_transport().is_active():
                    yield sse({"error": "unreachable", "message": f"lost the connection to "
                               f"{self.host.endpoint}", "hint": Unreachable.hint},
                              event="error")
                    return
                elif channel.eof_received or channel.closed:
                    yield self._events([buf]) + self._end()
                    return
                if not chunk and time.monotonic() - last_write >= self.keepalive:
                    chunk = ": keepalive\n\n"
                if chunk:
                    yield chunk
                    last_write = time.monotonic()
        finally:
            self.close()
