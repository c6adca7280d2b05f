"""Waiting for a descriptor to become readable, whatever its number.

``select.select()`` refuses descriptors past 1023 (``FD_SETSIZE``): ``ValueError: filedescriptor
out of range in select()``. A RECON process reaches that with enough SSH connections (each
Paramiko channel adds a pipe), log streams, terminals and event streams, so every wait goes
through ``poll()`` here, which has no such limit."""

from __future__ import annotations

import select
from collections.abc import Sequence

# Readable, or the other side is gone: either way the waiter has something to look at.
_READY = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR | select.POLLNVAL


def wait_readable(fds: Sequence[int], timeout: float) -> list[int]:
    """The descriptors of ``fds`` that are readable (or closed, or in error) within
    ``timeout`` seconds; empty when the time ran out."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN | select.POLLPRI)
    ready = poller.poll(max(0.0, timeout) * 1000)
    return [fd for fd, events in ready if events & _READY]
