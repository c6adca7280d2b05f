"""A process's identity across pid reuse and machines: ``"<pid>:<start time>@<host name>"``.
Rows that a process owns (terminal sessions, stream slots) carry it, so any other process on
the same machine can tell that their owner died (a crash, ``kill -9``) and clean up after it.
A process on another machine (a replica) cannot look: :func:`process_alive` answers True for
it, and the caller decides by other means (e.g. the monitor's membership)."""

from __future__ import annotations

import os
import socket


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat.rsplit(b")", 1)[-1].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode()  # field 22 of stat: start time in clock ticks since boot


def _host() -> str:
    # Bounded: the ids go in String(64) columns (pid and start time take at most ~22).
    return socket.gethostname()[:40]


def process_id(pid: int | None = None) -> str:
    """``"<pid>:<start time>@<host>"``: names a process uniquely across pid reuse and
    machines."""
    pid = pid or os.getpid()
    return f"{pid}:{_start_time(pid)}@{_host()}"


def process_host(ident: str) -> str:
    """The machine of a :func:`process_id` (this one for an id written before ids named it)."""
    return ident.partition("@")[2] or _host()


def process_here(ident: str) -> bool:
    """Whether the process named by ``ident`` runs (or ran) on this machine."""
    return process_host(ident) == _host()


def process_alive(ident: str) -> bool:
    """True while the process named by :func:`process_id` still runs -- and for a process of
    another machine, which cannot be looked at from here."""
    if not process_here(ident):
        return True
    pid, _, start = ident.partition("@")[0].partition(":")
    return pid.isdigit() and _start_time(int(pid)) == start
