"""A process's identity across pid reuse: ``"<pid>:<start time>"``. Rows that a process owns
(terminal sessions, stream slots) carry it, so any other process can tell that their owner died
(a crash, ``kill -9``) and clean up after it."""

from __future__ import annotations

import os


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


def process_id(pid: int | None = None) -> str:
    """``"<pid>:<start time>"``: names a process uniquely across pid reuse."""
    pid = pid or os.getpid()
    return f"{pid}:{_start_time(pid)}"


def process_alive(ident: str) -> bool:
    """True while the process named by :func:`process_id` still runs."""
    pid, _, start = ident.partition(":")
    return pid.isdigit() and _start_time(int(pid)) == start
