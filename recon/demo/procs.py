"""Small /proc helpers: find and end processes without relying on procps."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator


def _pids() -> Iterator[int]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def _read(pid: int, what: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{what}", "rb") as f:
            return f.read()
    except OSError:  # gone, or a kernel thread's environ
        return b""


def cmdline(pid: int) -> str:
    """Command line of ``pid``, arguments joined by spaces ('' for zombies and gone pids)."""
    return _read(pid, "cmdline").rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")


def is_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (PID 1 here may not reap orphans)."""
    stat = _read(pid, "stat")
    if not stat:
        return False
    state = stat.rsplit(b")", 1)[-1].split()[0]
    return state not in (b"Z", b"X")


def ppid(pid: int) -> int:
    """Parent pid of ``pid`` (0 if gone)."""
    stat = _read(pid, "stat")
    return int(stat.rsplit(b")", 1)[-1].split()[1]) if stat else 0


def find(predicate: Callable[[int], bool]) -> list[int]:
    """Live pids (any user) satisfying ``predicate``, excluding this process."""
    me = os.getpid()
    return sorted(p for p in _pids() if p != me and is_alive(p) and predicate(p))


def with_cmdline(pattern: str) -> list[int]:
    """Live pids whose command line contains ``pattern``."""
    return find(lambda p: pattern in cmdline(p))


def with_environ(entry: bytes) -> list[int]:
    """Live pids whose environment holds exactly ``entry`` (``b"KEY=value"``)."""
    return find(lambda p: entry in _read(p, "environ").split(b"\0"))


def descendants(root: int) -> list[int]:
    """All live descendants of ``root`` (children first seen, then theirs)."""
    children: dict[int, list[int]] = {}
    for p in _pids():
        children.setdefault(ppid(p), []).append(p)
    out: list[int] = []
    todo = list(children.get(root, ()))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return [p for p in out if is_alive(p)]


def terminate(pids: Iterable[int], *, grace: float = 3.0) -> None:
    """SIGTERM ``pids``, wait up to ``grace`` seconds, then SIGKILL whatever is left."""
    pending = [p for p in pids if _signal(p, signal.SIGTERM)]
    deadline = time.monotonic() + grace
    while pending and time.monotonic() < deadline:
        time.sleep(0.02)
        pending = [p for p in pending if is_alive(p)]
    for p in pending:
        _signal(p, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while pending and time.monotonic() < deadline:
        time.sleep(0.02)
        pending = [p for p in pending if is_alive(p)]


def _signal(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def starttime(pid: int) -> int:
    """Start time of ``pid`` in clock ticks since boot (0 if gone): with the pid, it names a
    process uniquely, so a state file never makes us signal a reused pid."""
    stat = _read(pid, "stat")
    return int(stat.rsplit(b")", 1)[-1].split()[19]) if stat else 0


def comm(pid: int) -> str:
    """The process name (``/proc/PID/comm``)."""
    return _read(pid, "comm").decode(errors="replace").strip()


def children(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        out += [int(c) for c in _read(pid, f"task/{task}/children").split()]
    return out


def pid_namespace(pid: int) -> str:
    """The PID namespace of ``pid`` (``pid:[4026...]``; '' if gone)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def uid(pid: int) -> int | None:
    """Real uid of ``pid`` (None if gone)."""
    for line in _read(pid, "status").splitlines():
        if line.startswith(b"Uid:"):
            return int(line.split()[1])
    return None
