"""A process's identity across pid reuse and machines: ``"<pid>:<start time>@<host name>"``.
Rows that a process owns (terminal sessions, stream slots) carry it, so any other process on
the same machine can tell that their owner died (a crash, ``kill -9``) and clean up after it.
A process on another machine (a replica) cannot look: :func:`process_alive` answers True for
it, and the caller decides by other means (e.g. the monitor's membership)."""

from __future__ import annotations

import os
import socket


def _stat(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (from the state on); None
    for a process that is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat.rsplit(b")", 1)[-1].split()
    return None if fields[0] in (b"Z", b"X") else fields


def _start_time(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[19].decode() if fields else None  # field 22: start time in ticks since boot


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


def _pid(ident: str) -> int | None:
    pid = ident.partition("@")[0].partition(":")[0]
    return int(pid) if pid.isdigit() else None


def same_server(ident: str) -> bool:
    """Whether the process named by ``ident`` is this one, or a running sibling of it under
    the same parent on this machine (another worker of the same gunicorn master): one
    server, whose processes share its run dir. Processes of another server (a replica, on
    this machine or another) are not, nor is a process that is gone."""
    pid = _pid(ident)
    if not process_here(ident) or pid is None:
        return False
    if pid == os.getpid():
        return True
    fields = _stat(pid) if process_alive(ident) else None
    # A parent of 1 (init) is no server: two unrelated processes both adopted by it are two.
    return fields is not None and os.getppid() > 1 and int(fields[1]) == os.getppid()


def describe(ident: str) -> str:
    """``"pid 1234 on web-a"``: a process id in words, for messages."""
    return f"pid {_pid(ident) or '?'} on {process_host(ident)}"
