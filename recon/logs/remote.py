"""Run a journalctl read and parse its output *while it arrives*.

:meth:`recon.ssh.Executor.run` with a sink: stdout goes to a parser chunk by chunk as bytes
instead of being collected and decoded at the end, so parsing 5000 lines overlaps
journalctl's own run, and export's binary fields keep their exact length prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from recon.config import HostConfig
from recon.ssh import CommandResult, Executor

STDERR_CAP = 64 * 1024


class Sink(Protocol):
    def feed(self, data: bytes) -> None: ...


def run_into(executor: Executor, host: HostConfig, argv: Sequence[str], sink: Sink, *,
             cap: int, timeout: float | None = None) -> CommandResult:
    """Run ``argv`` on ``host``, feeding stdout to ``sink`` (at most ``cap`` bytes); the
    result's stdout is empty (it went to the sink)."""
    result = executor.run(host, argv, timeout=timeout, cap=cap, sink=sink.feed)
    return replace(result, stderr=result.stderr[:STDERR_CAP])
