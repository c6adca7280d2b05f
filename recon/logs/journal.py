"""Journal reads over SSH: run the validated journalctl argv, parse its lines.

Structured output (``-o export``) is asked for first. A host whose journalctl fails at that
but answers ``-o short-iso`` is remembered as a text host (per process) and read as parsed
text lines from then on; text lines carry no cursor.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from recon.config import HostConfig, ServiceConfig
from recon.logs.parse import sink_for
from recon.logs.query import InvalidParameter, LogQuery, Mode, Output
from recon.logs.remote import run_into
from recon.ssh import CommandFailed, CommandResult, Executor, SudoRefused
from recon.ssh.errors import is_sudo_refusal
from recon.ssh.executor import privileged
from recon.ssh.systemctl import sudo_refused

RUNBOOK_LINES = 50
# 5000 JSON lines are ~2 MB; the executor's default cap (1 MB) would cut them.
READ_CAP = 16 * 1024 * 1024


class JournalModes:
    """Which output each host's journalctl speaks: ``json`` until proven otherwise."""

    def __init__(self) -> None:
        self._text: set[tuple[str, int, str]] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _key(host: HostConfig) -> tuple[str, int, str]:
        return (host.address, host.port, host.journalctl)

    def get(self, host: HostConfig) -> Mode:
        with self._lock:
            return "text" if self._key(host) in self._text else "json"

    def set_text(self, host: HostConfig) -> None:
        with self._lock:
            self._text.add(self._key(host))


def journal_argv(host: HostConfig, unit: str, lines: int) -> list[str]:
    """``sudo -n journalctl`` for the last ``lines`` lines as text, in the sudoers rule's shape
    (also what ``recon check`` probes with ``sudo -l``)."""
    query = LogQuery(unit=unit, lines=int(lines))
    return privileged(host, query.argv(host.journalctl, "short-iso", extra_line=False))


def _refused(result: CommandResult) -> bool:
    return is_sudo_refusal(result.exit_code, result.stderr)


def _no_matches(result: CommandResult, lines: list) -> bool:
    # journalctl -g exits 1 when nothing matched, with nothing on stderr.
    return result.exit_code == 1 and not lines and not result.stderr.strip()


class Reader:
    """Runs one read of a unit's journal and returns ``(lines, truncated, mode)``."""

    def __init__(self, executor: Executor, modes: JournalModes):
        self.executor, self.modes = executor, modes

    def run(self, host: HostConfig, query: LogQuery, output: Output) -> tuple[CommandResult, list]:
        """Run the query in ``output`` form; its lines parsed as they arrived. A journalctl
        that answered in another form than asked for is reported as exit code -2."""
        argv = privileged(host, query.argv(host.journalctl, output))
        # Without -n (see LogQuery.unbounded) the output is cut by size instead; a cut
        # answer says truncated, and the next page starts at its last cursor.
        cap = min(READ_CAP, max(256 * 1024, (query.lines + 1) * 4096)) if query.unbounded \
            else READ_CAP
        sink = sink_for(output)
        finished = run_into(self.executor, host, argv, sink, cap=cap)
        if sink.foreign:
            finished = replace(finished, exit_code=-2,
                               stderr=finished.stderr or "unexpected output format",
                               truncated=False)
        return finished, sink.finish()

    def read(self, host: HostConfig, query: LogQuery) -> tuple[list[dict], bool, Mode]:
        mode = self.modes.get(host)
        result, lines = self.run(host, query, "export" if mode == "json" else "short-iso")
        if _refused(result):
            raise SudoRefused(f"sudo on {host.name} refused journalctl for {query.unit}: "
                              f"{result.stderr.strip()[:300]}", host=host.name)
        failed = not result.ok and not _no_matches(result, lines)
        if mode == "json" and failed:
            retry, retry_lines = self.run(host, query, "short-iso")
            if retry.ok or _no_matches(retry, retry_lines):
                self.modes.set_text(host)
                result, lines, mode, failed = retry, retry_lines, "text", False
        if failed and "must be before" in result.stderr:
            raise InvalidParameter("until", "since must be before until",
                                   "Pick an `until` later than `since`.")
        if failed:
            raise CommandFailed(f"journalctl on {host.name} exited {result.exit_code}: "
                                f"{result.stderr.strip()[:500]}", host=host.name)
        if result.truncated and lines and mode == "text":
            lines.pop()  # the cap may have cut the last text line (export drops it itself)
        truncated = len(lines) > query.lines
        if query.cursor is None:
            lines.reverse()  # read newest-first (-r); the extra line is the oldest one
            if truncated:
                lines = lines[len(lines) - query.lines:]
        elif truncated:
            lines = lines[:query.lines]  # forward from the cursor; more follow
        return lines, truncated or result.truncated, mode


def read_lines(executor: Executor, host: HostConfig, service: ServiceConfig,
               lines: int) -> list[str]:
    """The last ``lines`` journal lines of a service, as text lines (oldest first)."""
    result = executor.run(host, journal_argv(host, service.unit, lines))
    if sudo_refused(result):
        raise SudoRefused(f"sudo on {host.name} refused journalctl for {service.unit}: "
                          f"{result.stderr.strip()[:300]}", host=host.name)
    return [line for line in reversed(result.stdout.splitlines()) if not line.startswith("-- ")]
