"""Run argv commands on hosts over pooled SSH transports, always under a deadline.

No shell string is ever built from a request: callers pass argv lists made of validated
config values, joined here with ``shlex.join``. Every command runs remotely under coreutils
``timeout`` so a command cut off here also ends on the host (closing a channel does not end a
remote command that has no pty).
"""

from __future__ import annotations

import math
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paramiko

from recon.config import HostConfig
from recon.core.waits import wait_readable
from recon.ssh.connection import Connection
from recon.ssh.errors import ChannelBusy, CommandTimeout, RemoteError, Unreachable
from recon.ssh.hostkeys import HostKeyStore
from recon.ssh.timing import observe_ssh

OUTPUT_CAP = 1024 * 1024
REMOTE_TIMEOUT_EXIT = 124
# How long after the remote `timeout` fires we still wait for its exit status to arrive.
KILL_GRACE = 2.0


@dataclass(frozen=True)
class CommandResult:
    """What a finished remote command left behind."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration_ms: float
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def privileged(host: HostConfig, argv: Sequence[str]) -> list[str]:
    """``argv`` as RECON runs a privileged command on ``host``: ``sudo -n`` (so a missing
    rule fails at once instead of asking for a password) unless the host uses no sudo."""
    return [host.sudo, "-n", *argv] if host.use_sudo else list(argv)


def remote_command(argv: Sequence[str], timeout: float | None, *,
                   foreground: bool = False) -> str:
    """The exact string sent to the host for ``argv``, ended there after ``timeout``.

    ``foreground`` is for commands on a pty: sudo must stay in the terminal's foreground
    process group (it sets terminal modes), which plain ``timeout`` would take it out of.
    """
    # LC_ALL=C: messages (sudo's refusal above all) come in English whatever the host's
    # locale, so errors.is_sudo_refusal can recognise them.
    command = shlex.join(argv)
    if timeout is None:
        return f"LC_ALL=C {command}"
    flag = "--foreground " if foreground else ""
    return f"LC_ALL=C timeout {flag}-k {KILL_GRACE:g} {math.ceil(timeout)} {command}"


class _Drain:
    """Reads stdout and stderr together so neither fills the window and blocks the other.

    stdout is collected, or handed chunk by chunk to ``sink`` so a caller can parse it while
    the command still runs; both are capped at ``cap`` bytes (the rest is discarded).
    """

    def __init__(self, channel: paramiko.Channel, cap: int,
                 sink: Callable[[bytes], None] | None = None):
        self.channel = channel
        self.cap = cap
        self.sink = sink
        self.out = bytearray()
        self.out_len = 0
        self.err = bytearray()
        self.truncated = False

    def _room(self, used: int, data: bytes) -> bytes:
        room = self.cap - used
        if len(data) > room:
            self.truncated = True
            data = data[:max(room, 0)]
        return data

    def pump(self) -> None:
        ch = self.channel
        while ch.recv_ready():
            data = self._room(self.out_len, ch.recv(1 << 20))
            self.out_len += len(data)
            if not data:
                continue
            if self.sink is not None:
                self.sink(data)
            else:
                self.out.extend(data)
        while ch.recv_stderr_ready():
            self.err.extend(self._room(len(self.err), ch.recv_stderr(65536)))

    def run_until(self, deadline: float) -> int | None:
        """Drain until the exit status arrives (returned) or the deadline passes (None)."""
        ch = self.channel
        fd = ch.fileno()
        while True:
            self.pump()
            if ch.exit_status_ready():
                # Data sent before the exit status is already buffered; take the rest.
                self.pump()
                return ch.recv_exit_status()
            if ch.closed or not ch.get_transport().is_active():
                self.pump()
                return -1  # the channel or connection went away without an exit status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            wait_readable([fd], min(remaining, 0.25))


class Executor:
    """Runs commands on configured hosts; one :class:`Connection` per endpoint."""

    def __init__(self, host_keys: HostKeyStore):
        self.host_keys = host_keys
        self._connections: dict[tuple[str, int, str, str], Connection] = {}
        self._lock = threading.Lock()

    def connection(self, host: HostConfig) -> Connection:
        """The shared connection for ``host``'s endpoint (created, not yet connected)."""
        key = host.connection_key
        with self._lock:
            conn = self._connections.get(key)
            if conn is None:
                conn = self._connections[key] = Connection(host, self.host_keys)
            return conn

    def open_channel(self, host: HostConfig, deadline: float,
                     probe: bool = False) -> paramiko.Channel:
        """A new session channel on the pooled connection (see :meth:`Connection.open_channel`)."""
        return self.connection(host).open_channel(deadline, probe=probe)

    def run(self, host: HostConfig, argv: Sequence[str], *, timeout: float | None = None,
            cap: int = OUTPUT_CAP, sink: Callable[[bytes], None] | None = None,
            probe: bool = False) -> CommandResult:
        """Run ``argv`` on ``host`` and wait for it, at most ``timeout`` (default: the host's
        command_timeout) plus a short grace for the remote kill to report back.

        With ``sink``, stdout goes to it as it arrives and the result's stdout is empty.
        A host in back-off fails at once with HostDown unless ``probe`` (the monitor's
        checks). A command whose exit status never arrives means the host stopped answering:
        its transport is replaced, so the next command does not queue behind a dead one."""
        timeout = host.command_timeout if timeout is None else timeout
        started = time.monotonic()
        deadline = started + timeout + KILL_GRACE + host.connect_timeout
        conn = self.connection(host)
        if not probe:
            conn.check_breaker()
        if not conn.channels.acquire(timeout=timeout):
            raise ChannelBusy(f"{host.max_channels} commands already running on {host.name}",
                              host=host.name)
        try:
            channel = self.open_channel(host, deadline, probe=probe)
            try:
                command = remote_command(argv, timeout)
                channel.exec_command(command)
                # The command's own clock starts now that the connection is up.
                run_deadline = min(deadline, time.monotonic() + timeout + KILL_GRACE)
                drain = _Drain(channel, cap, sink)
                status = drain.run_until(run_deadline)
                if status is None:
                    conn.discard(channel.get_transport())
            finally:
                channel.close()
        except RemoteError:
            raise
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Unreachable(f"connection to {host.endpoint} failed mid-command: {exc}",
                              host=host.name) from None
        finally:
            conn.channels.release()
        elapsed = (time.monotonic() - started) * 1000
        observe_ssh(host.name, elapsed / 1000)
        if status is None or status == REMOTE_TIMEOUT_EXIT:
            raise CommandTimeout(f"{shlex.join(argv)} on {host.name} did not finish within "
                                 f"{timeout:g} s", host=host.name)
        if status < 0:
            raise Unreachable(f"{host.endpoint} closed the channel without an exit status",
                              host=host.name)
        return CommandResult(
            argv=tuple(argv), exit_code=status,
            stdout=drain.out.decode("utf-8", "replace"),
            stderr=drain.err.decode("utf-8", "replace"),
            duration_ms=round(elapsed, 2), truncated=drain.truncated,
        )

    def close_all(self) -> None:
        """Close every pooled transport."""
        with self._lock:
            conns = list(self._connections.values())
        for conn in conns:
            conn.close()
