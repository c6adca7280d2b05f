"""Run a journalctl read and parse its output *while it arrives*.

Same rules as :meth:`recon.ssh.Executor.run` (the host's channel bound, a remote
``timeout``, a local deadline, typed errors), but stdout goes to a parser chunk by chunk as
bytes instead of being collected and decoded at the end: parsing 5000 lines then overlaps
journalctl's own run instead of following it, and export's binary fields keep their exact
length prefix.
"""

from __future__ import annotations

import select
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import paramiko

from ..config import HostConfig
from ..ssh import ChannelBusy, CommandTimeout, Executor, RemoteError, Unreachable
from ..ssh.executor import KILL_GRACE, REMOTE_TIMEOUT_EXIT, remote_command

STDERR_CAP = 64 * 1024


class Sink(Protocol):
    def feed(self, data: bytes) -> None: ...


@dataclass(frozen=True)
class Finished:
    exit_code: int
    stderr: str
    truncated: bool  # stdout passed the cap; the rest was discarded

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def run_into(executor: Executor, host: HostConfig, argv: Sequence[str], sink: Sink, *,
             cap: int, timeout: float | None = None) -> Finished:
    """Run ``argv`` on ``host``, feeding stdout to ``sink`` (at most ``cap`` bytes)."""
    timeout = host.command_timeout if timeout is None else timeout
    deadline = time.monotonic() + timeout + KILL_GRACE + host.connect_timeout
    conn = executor.connection(host)
    if not conn.channels.acquire(timeout=timeout):
        raise ChannelBusy(f"{host.max_channels} commands already running on {host.name}",
                          host=host.name)
    try:
        channel = executor.open_channel(host, deadline)
        try:
            channel.exec_command(remote_command(argv, timeout))
            run_deadline = min(deadline, time.monotonic() + timeout + KILL_GRACE)
            status, err, truncated = _drain(channel, sink, cap, run_deadline)
        finally:
            channel.close()
    except RemoteError:
        raise
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise Unreachable(f"connection to {host.endpoint} failed mid-command: {exc}",
                          host=host.name) from None
    finally:
        conn.channels.release()
    if status is None or status == REMOTE_TIMEOUT_EXIT:
        raise CommandTimeout(f"{shlex.join(argv)} on {host.name} did not finish within "
                             f"{timeout:g} s", host=host.name)
    if status < 0:
        raise Unreachable(f"{host.endpoint} closed the channel without an exit status",
                          host=host.name)
    return Finished(status, err.decode("utf-8", "replace"), truncated)


def _drain(channel: paramiko.Channel, sink: Sink, cap: int,
           deadline: float) -> tuple[int | None, bytes, bool]:
    """(exit status or None at the deadline, stderr, stdout cut) -- stdout and stderr are
    read together so neither fills its window and stalls the other."""
    taken, err, truncated = 0, bytearray(), False

    def pump() -> None:
        nonlocal taken, truncated
        while channel.recv_ready():
            data = channel.recv(1 << 20)
            room = cap - taken
            if len(data) > room:
                truncated, data = True, data[:max(room, 0)]
            if data:
                taken += len(data)
                sink.feed(data)
        while channel.recv_stderr_ready():
            chunk = channel.recv_stderr(65536)
            err.extend(chunk[:max(0, STDERR_CAP - len(err))])

    while True:
        pump()
        if channel.exit_status_ready():
            pump()  # output sent before the exit status is already buffered
            return channel.recv_exit_status(), bytes(err), truncated
        if channel.closed or not channel.get_transport().is_active():
            pump()
            return -1, bytes(err), truncated
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, bytes(err), truncated
        select.select([channel], [], [], min(remaining, 0.25))
