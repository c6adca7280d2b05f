"""Run a journalctl read and parse its output *while it arrives*.

:meth:`recon.ssh.Executor.run` with a sink: stdout goes to a parser chunk by chunk as bytes
instead of being collected and decoded at the end, so parsing 5000 lines overlaps
journalctl's own run, and export's binary fields keep their exact length prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..config import HostConfig
from ..ssh import Executor

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
    result = executor.run(host, argv, timeout=timeout, cap=cap, sink=sink.feed)
    return Finished(result.exit_code, result.stderr[:STDERR_CAP], result.truncated)
