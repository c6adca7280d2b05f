"""One persistent, host-key-verified Paramiko Transport per (address, port, user).

A host that misbehaves must cost each caller as little as possible and must come back by
itself: a failed connect opens a back-off window in which callers get :class:`HostDown` at
once (the monitor's probes still try), and a transport on which a channel open or a command
outlives its deadline is thrown away -- Paramiko never cancels a timed-out channel open, so
the session sshd confirms later would otherwise hold one of its ``MaxSessions`` forever.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import paramiko
from paramiko.common import cMSG_GLOBAL_REQUEST

from recon.config import HostConfig
from recon.ssh.errors import (
    AuthFailed,
    ChannelBusy,
    ConnectTimeout,
    HostDown,
    KeyUnreadable,
    RemoteError,
    Unreachable,
    key_problem,
)
from recon.ssh.hostkeys import HostKeyStore

KEEPALIVE_SECONDS = 15
PING_REQUEST = "keepalive@openssh.com"
OPEN_RETRY_DELAY = 0.02
# Back-off after a failed connect: 1, 2, 4, 8 s, then every 8 s -- short enough that a host
# that resumes is used again well within 15 s.
BACKOFF_BASE = 1.0
BACKOFF_MAX = 8.0
_key_cache: dict[tuple[str, int, int], paramiko.PKey] = {}
_key_lock = threading.Lock()


def load_private_key(host: HostConfig) -> paramiko.PKey:
    """The private key for ``host``, loaded once per file: a key replaced at the same path (a
    rotated terminal key, recon.terminals.userkeys) is a new inode, so it is read again."""
    path = str(host.key_path)
    try:
        st = os.stat(path)
        ident = (path, st.st_ino, st.st_mtime_ns)
    except OSError:
        ident = (path, 0, 0)
    with _key_lock:
        key = _key_cache.get(ident)
        if key is None:
            try:
                key = paramiko.PKey.from_path(path)
            except (OSError, paramiko.SSHException, ValueError) as exc:
                raise KeyUnreadable(key_problem(host.name, path, exc),
                                    host=host.name) from None
            _key_cache[ident] = key
        return key


def _open_socket(host: HostConfig) -> socket.socket:
    try:
        sock = socket.create_connection((host.address, host.port), timeout=host.connect_timeout)
    except TimeoutError:
        raise Unreachable(f"connecting to {host.endpoint} timed out after "
                          f"{host.connect_timeout:g} s", host=host.name) from None
    except OSError as exc:
        raise Unreachable(f"cannot connect to {host.endpoint}: {exc.strerror or exc}",
                          host=host.name) from None
    # Without it every command on a reused transport waits ~45 ms for delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _handshake(transport: paramiko.Transport, host: HostConfig) -> None:
    """Banner and key exchange within ``connect_timeout``, a stall named as such.

    Paramiko reports a silent peer as "Error reading SSH protocol banner", or not at all:
    ``start_client`` returns at its timeout with no session (and later calls then fail with
    "No existing session").
    """
    try:
        transport.start_client(timeout=host.connect_timeout)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        if "Error reading SSH protocol banner" not in str(exc):
            raise Unreachable(f"SSH handshake with {host.endpoint} failed: {exc or 'no answer'}",
                              host=host.name) from None
    if transport.host_key is None:  # the key exchange never finished
        phase = "handshake (key exchange)" if transport.remote_version else "banner"
        raise ConnectTimeout(f"no SSH {phase} from {host.endpoint} within "
                             f"{host.connect_timeout:g} s", host=host.name)


class _Transport(paramiko.Transport):
    """Paramiko's transport, waking less often when idle, and knowing when the host last said
    anything.

    Its thread wakes every ``_active_check_timeout`` (Paramiko: 0.1 s) from a blocking read to
    see whether it was closed: with a thousand hosts that is 10,000 wake-ups a second, each
    raising and catching a timeout, on a process that has nothing to do. Closing still returns
    at once (the packetizer is marked closed); the thread ends at its next wake-up.

    ``heard`` (monotonic) is when the last packet from the host arrived -- a command's output,
    a D-Bus signal, a keepalive reply all count: any of them proves the host and the link
    alive, so the liveness watch (:mod:`recon.monitor.liveness`) asks only hosts that were
    quiet.
    """

    _active_check_timeout = 1.0

    def __init__(self, sock: socket.socket):
        super().__init__(sock)
        self.heard = time.monotonic()
        read = self.packetizer.read_message

        def read_message():  # the transport thread's only way in: one stamp per packet
            message = read()
            self.heard = time.monotonic()
            return message

        self.packetizer.read_message = read_message


def open_transport(host: HostConfig, keys: HostKeyStore) -> paramiko.Transport:
    """Connect, verify the host key (never auto-accepting) and authenticate, within
    ``host.connect_timeout`` for each phase (TCP, banner, key exchange, auth)."""
    pkey = load_private_key(host)
    sock = _open_socket(host)
    transport = _Transport(sock)
    try:
        transport.banner_timeout = host.connect_timeout
        transport.auth_timeout = host.connect_timeout
        trusted = keys.trusted(host.address, host.port, host.host_key)
        if trusted:
            # Ask for the key type we trust, or a host with several keys offers another one
            # and it would look "changed".
            opts = transport.get_security_options()
            preferred = [k.get_name() for k in trusted]
            opts.key_types = preferred + [t for t in opts.key_types if t not in preferred]
        _handshake(transport, host)
        keys.verify(host.address, host.port, transport.get_remote_server_key(),
                    host.host_key, host=host.name)
        try:
            transport.auth_publickey(host.user, pkey)
        except paramiko.AuthenticationException as exc:
            raise AuthFailed(f"{host.endpoint} refused the dashboard's key: {exc}",
                             host=host.name) from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Unreachable(f"authentication with {host.endpoint} failed: {exc}",
                              host=host.name) from None
        transport.set_keepalive(KEEPALIVE_SECONDS)
        return transport
    except BaseException:
        transport.close()
        raise


def scan_host_key(host: HostConfig) -> paramiko.PKey:
    """The key the host offers, fetched without trusting or authenticating (for `trust`)."""
    sock = _open_socket(host)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = host.connect_timeout
        _handshake(transport, host)
        return transport.get_remote_server_key()
    finally:
        transport.close()


class Connection:
    """A lazily opened transport shared by every command to one endpoint.

    Concurrent callers that were waiting while a connect attempt failed get that same
    failure instead of each paying the connect timeout again, and so do callers arriving
    during the back-off that follows (as :class:`HostDown`); a ``probe`` call ignores it.
    """

    def __init__(self, host: HostConfig, keys: HostKeyStore):
        self.host = host
        self.keys = keys
        self.channels = threading.BoundedSemaphore(host.max_channels)
        self._lock = threading.Lock()
        self._transport: paramiko.Transport | None = None
        self._failure: tuple[float, RemoteError] | None = None
        self._failures = 0
        self._down_since: float | None = None  # wall clock, for messages
        self._retry_at = 0.0
        self.replaced = 0  # transports thrown away after a timeout (a public counter)

    def check_breaker(self) -> None:
        """Raise :class:`HostDown` while a recent connect failure's back-off lasts."""
        failure, retry_at = self._failure, self._retry_at
        wait = retry_at - time.monotonic()
        if failure is not None and wait > 0:
            since = self._down_since or time.time()
            stamp = time.strftime("%H:%M:%S", time.localtime(since))
            raise HostDown(f"{self.host.name} is down since {stamp}: {failure[1].message}",
                           since=since, cause=failure[1], retry_in=wait, host=self.host.name)

    def transport(self, deadline: float, fresh: bool = False,
                  probe: bool = False) -> paramiko.Transport:
        """An active transport, connecting (or reconnecting when ``fresh``) if needed."""
        asked = time.monotonic()
        if not probe:
            self.check_breaker()
        if not self._lock.acquire(timeout=max(0.0, deadline - asked)):
            raise ConnectTimeout(f"still connecting to {self.host.endpoint} (another request's "
                                 "handshake has not finished)", host=self.host.name)
        try:
            if self._failure and self._failure[0] >= asked:
                raise self._failure[1]
            current = self._transport
            if current is not None and current.is_active() and not fresh:
                return current
            if current is not None:
                current.close()
                self._transport = None
            try:
                self._transport = open_transport(self.host, self.keys)
            except RemoteError as exc:
                now = time.monotonic()
                self._failure = (now, exc)
                # Only a host that does not answer is backed off: a refused key or login
                # fails in milliseconds, and must work again the moment it is fixed.
                if isinstance(exc, (Unreachable, ConnectTimeout)):
                    self._failures += 1
                    self._down_since = self._down_since or time.time()
                    self._retry_at = now + min(BACKOFF_MAX,
                                               BACKOFF_BASE * 2 ** (self._failures - 1))
                raise
            self._failure, self._failures, self._down_since = None, 0, None
            self._retry_at = 0.0
            return self._transport
        finally:
            self._lock.release()

    def discard(self, transport: paramiko.Transport | None) -> None:
        """Throw ``transport`` away (if it is still the current one) after a timeout on it:
        closing it ends every session on it, including any that sshd confirms late."""
        if transport is None:
            return
        with self._lock:
            if self._transport is transport:
                self._transport = None
        transport.close()
        self.replaced += 1

    def open_channel(self, deadline: float, probe: bool = False) -> paramiko.Channel:
        """A new session channel, reconnecting once if the transport had died.

        Retrying is safe because nothing has been sent on the channel yet. A refused open
        (MaxSessions reached, or closes still in flight) is retried until the deadline; an
        open the host does not answer within ``connect_timeout`` replaces the transport.
        """
        host = self.host
        reconnected = False
        while True:
            transport = self.transport(deadline, probe=probe)
            wait = min(host.connect_timeout, max(0.1, deadline - time.monotonic()))
            try:
                return transport.open_session(timeout=wait)
            except paramiko.ChannelException:
                pass  # refused for now: wait a moment and retry
            except (paramiko.SSHException, EOFError, OSError) as exc:
                if "Timeout opening channel" in str(exc):
                    self.discard(transport)
                    raise ConnectTimeout(f"{host.endpoint} did not open a session within "
                                         f"{wait:g} s; the connection was replaced",
                                         host=host.name) from None
                if transport.is_active():
                    pass  # "Unable to open channel" under contention: retry like a refusal
                elif reconnected:
                    raise Unreachable(f"lost the connection to {host.endpoint}: {exc}",
                                      host=host.name) from None
                else:
                    reconnected = True
                    self.transport(deadline, fresh=True, probe=probe)
                    continue
            if time.monotonic() + OPEN_RETRY_DELAY >= deadline:
                raise ChannelBusy(f"{host.endpoint} refused new channels until the deadline",
                                  host=host.name)
            time.sleep(OPEN_RETRY_DELAY)

    def heard(self) -> tuple[paramiko.Transport, float] | None:
        """The live transport and when (monotonic) the host last sent anything on it; None
        while there is none (nothing to watch: the next command connects)."""
        transport = self._transport
        if transport is None or not transport.is_active():
            return None
        return transport, getattr(transport, "heard", time.monotonic())

    @staticmethod
    def ping(transport: paramiko.Transport) -> bool:
        """Ask the host for a keepalive reply without waiting for it (the reply stamps
        ``heard``); False when it was not sent (a key exchange is under way, which is
        traffic itself, or the transport is closing).

        Paramiko's own ``global_request(wait=False)`` asks for no reply, and ``wait=True``
        blocks a thread per host until the reply comes: so the request is built here, with
        want-reply set, and sent only if the transport's send lock is free at once -- one
        watcher thread pings every host and must never block on one.
        """
        if not transport.is_active() or not transport.clear_to_send.is_set():
            return False
        message = paramiko.Message()
        message.add_byte(cMSG_GLOBAL_REQUEST)
        message.add_string(PING_REQUEST)
        message.add_boolean(True)  # want reply: OpenSSH answers REQUEST_FAILURE at once
        if not transport.clear_to_send_lock.acquire(blocking=False):
            return False
        try:
            if not transport.clear_to_send.is_set():  # a key exchange began meanwhile
                return False
            transport._send_message(message)  # noqa: SLF001 -- see the docstring
        except (OSError, EOFError, paramiko.SSHException):
            return False
        finally:
            transport.clear_to_send_lock.release()
        return True

    def is_connected(self) -> bool:
        """Whether a live transport is held (no network traffic)."""
        t = self._transport
        return t is not None and t.is_active()

    def close(self) -> None:
        """Close the transport; the next command reconnects."""
        with self._lock:
            if self._transport is not None:
                self._transport.close()
                self._transport = None
