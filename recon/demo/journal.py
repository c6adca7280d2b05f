"""The demo target's real journal: unit output shipped into ``systemd-journal-remote``.

The systemctl replacement appends each unit's stdout/stderr to
``<sysroot>/var/log/journal/<unit>.log``. A shipper process (``python -m
recon.demo.journal SYSROOT``) follows those files and turns every line into a journal export
record fed to a running ``systemd-journal-remote --output=<sysroot>/var/log/journal-real/
demo.journal -``, so the real ``journalctl --directory=...`` answers ``-u -n -p --since
--until -g -o json --after-cursor -f`` on the target (see TESTBED-NOTES, journal section).

Priorities follow journald's rules for a service's stdout: a ``<N>`` prefix (sd-daemon(3),
``SyslogLevelPrefix=yes``) sets the priority and is stripped; otherwise lifecycle lines of the
demo heartbeat are ``notice`` (5), lines saying error/fail are ``err`` (3), warnings
``warning`` (4), and everything else ``info`` (6).

The shipper and its journal-remote child carry the target's ``RECON_DEMO_ROOT`` marker in
their environment, so the target's teardown sweep ends them even if this process was killed.
"""

from __future__ import annotations

import ctypes
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
JOURNALCTL = "/usr/bin/journalctl"
JOURNAL_FILE = "demo.journal"
_MARKER = "RECON_DEMO_ROOT"
# Wake-up when inotify says nothing (a missed event, a file replaced): a full rescan.
RESCAN_SECONDS = 0.5
_ENTRY = "import sys; from recon.demo.journal import run; sys.exit(run(sys.argv[1]))"

_PREFIX = re.compile(rb"^<([0-7])>")
CONTENT_PRIORITIES: tuple[tuple[re.Pattern[bytes], int], ...] = (
    (re.compile(rb"\b(error|failed|failure|fatal)\b", re.I), 3),
    (re.compile(rb"\bwarn(ing)?\b", re.I), 4),
    (re.compile(rb": (started as pid|stopping \(SIGTERM\)|reload requested)"), 5),
)


def journal_dir(sysroot: Path) -> Path:
    """Where journal-remote writes the target's real journal (``journalctl --directory``)."""
    return Path(sysroot) / "var" / "log" / "journal-real"


def unit_log_dir(sysroot: Path) -> Path:
    """Where the systemctl replacement appends each unit's output (``<unit>.log``)."""
    return Path(sysroot) / "var" / "log" / "journal"


def priority_of(line: bytes) -> tuple[int, bytes]:
    """``(PRIORITY, MESSAGE)`` for one output line, as journald would store it."""
    m = _PREFIX.match(line)
    if m:
        return int(m.group(1)), line[m.end():]
    for pattern, prio in CONTENT_PRIORITIES:
        if pattern.search(line):
            return prio, line
    return 6, line


def export_record(fields: list[tuple[str, bytes]]) -> bytes:
    """One journal export-format entry. ``MESSAGE`` (and any value with a newline) is written
    in the binary-safe form (name, newline, 64-bit little-endian length, data, newline) so no
    output can break the framing; the others as ``NAME=value`` -- journal-remote takes
    ``_BOOT_ID`` and the timestamps only from that text form."""
    out = bytearray()
    for name, value in fields:
        if name == "MESSAGE" or b"\n" in value:
            out += name.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
        else:
            out += name.encode() + b"=" + value + b"\n"
    return bytes(out + b"\n")


class _Inotify:
    """Wake-ups on writes to a directory (ctypes inotify; stdlib has none)."""

    IN_MODIFY, IN_CREATE, IN_MOVED_TO = 0x2, 0x100, 0x80

    def __init__(self, directory: Path):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(
                self.fd, str(directory).encode(),
                self.IN_MODIFY | self.IN_CREATE | self.IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), f"inotify on {directory}")

    def wait(self, timeout: float) -> None:
        if select.select([self.fd], [], [], timeout)[0]:
            try:
                while os.read(self.fd, 65536):
                    pass
            except BlockingIOError:
                pass


class Shipper:
    """Follows every ``*.log`` in the unit log directory and writes export records."""

    def __init__(self, sysroot: Path, out: BinaryIO):
        self.sysroot = Path(sysroot)
        self.logs = unit_log_dir(sysroot)
        self.out = out
        self.offsets: dict[str, int] = {}
        self.partial: dict[str, bytes] = {}
        self.boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace(
            "-", "").encode()
        self.hostname = socket.gethostname().encode()

    def _main_pid(self, unit: str) -> bytes | None:
        try:
            text = (self.sysroot / "run" / f"{unit}.status").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("MainPID=") and line[8:].strip().isdigit():
                return line[8:].strip().encode()
        return None

    def _records(self, unit: str, lines: list[bytes]) -> bytes:
        pid = self._main_pid(unit)
        ident = unit.removesuffix(".service").encode()
        out = bytearray()
        for line in lines:
            prio, message = priority_of(line.rstrip(b"\r"))
            fields = [("__REALTIME_TIMESTAMP", str(time.time_ns() // 1000).encode()),
                      ("__MONOTONIC_TIMESTAMP", str(time.monotonic_ns() // 1000).encode()),
                      ("_BOOT_ID", self.boot_id), ("_HOSTNAME", self.hostname),
                      ("_TRANSPORT", b"stdout"), ("_SYSTEMD_UNIT", unit.encode()),
                      ("SYSLOG_IDENTIFIER", ident), ("SYSLOG_FACILITY", b"3"),
                      ("PRIORITY", str(prio).encode())]
            if pid:
                fields.append(("_PID", pid))
            fields.append(("MESSAGE", message))
            out += export_record(fields)
        return bytes(out)

    def poll(self) -> int:
        """Ship what was appended since the last call; returns the number of entries."""
        try:
            names = sorted(n for n in os.listdir(self.logs) if n.endswith(".log"))
        except FileNotFoundError:
            return 0
        shipped = 0
        for name in names:
            unit = name.removesuffix(".log")
            try:
                with open(self.logs / name, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    offset = self.offsets.get(name, 0)
                    if size < offset:  # truncated or replaced: start over
                        offset, self.partial[name] = 0, b""
                    if size == offset:
                        continue
                    f.seek(offset)
                    data = f.read(size - offset)
            except OSError:
                continue
            self.offsets[name] = offset + len(data)
            lines = (self.partial.pop(name, b"") + data).split(b"\n")
            self.partial[name] = lines.pop()  # the unfinished last line, if any
            if lines:
                self.out.write(self._records(unit, lines))
                shipped += len(lines)
        if shipped:
            self.out.flush()
        return shipped


def run(sysroot: Path) -> int:
    """The shipper process: start journal-remote and feed it until SIGTERM/SIGINT."""
    out_dir = journal_dir(sysroot)
    out_dir.mkdir(parents=True, exist_ok=True)
    logs = unit_log_dir(sysroot)
    logs.mkdir(parents=True, exist_ok=True)
    remote = subprocess.Popen([JOURNAL_REMOTE, f"--output={out_dir / JOURNAL_FILE}", "-"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    assert remote.stdin is not None
    shipper = Shipper(sysroot, remote.stdin)
    watch = _Inotify(logs)
    try:
        while not stopping and remote.poll() is None:
            shipper.poll()
            watch.wait(RESCAN_SECONDS)
        shipper.poll()
    except BrokenPipeError:
        pass
    finally:
        try:
            remote.stdin.close()
        except BrokenPipeError:
            pass
        try:
            remote.wait(timeout=5)
        except subprocess.TimeoutExpired:
            remote.kill()
            remote.wait()
    return 0


class JournalShipper:
    """Start/stop the shipper process of one target (used by ``DemoTarget``)."""

    def __init__(self, sysroot: Path):
        self.sysroot = Path(sysroot)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def journal_file(self) -> Path:
        return journal_dir(self.sysroot) / JOURNAL_FILE

    def start(self, timeout: float = 10.0) -> None:
        """Start the shipper and wait until the journal file exists."""
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               _MARKER: str(self.sysroot)}
        # Importable from any working directory, whether or not recon is installed.
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, str(self.sysroot)],
            env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            start_new_session=True, close_fds=True)
        deadline = time.monotonic() + timeout
        while not self.journal_file.exists():
            if self._proc.poll() is not None:
                raise RuntimeError(f"journal shipper exited {self._proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"no journal at {self.journal_file} after {timeout:g}s")
            time.sleep(0.02)

    def stop(self) -> None:
        """End the shipper (it closes journal-remote's input, which then exits)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m recon.demo.journal SYSROOT")
    sys.exit(run(Path(sys.argv[1])))
