"""journalctl output to line dicts ``{ts, priority, pid, ident, message, cursor}``.

Three forms: ``-o export`` for reads (journalctl writes it about twice as fast as json, and
it is parsed incrementally as it arrives, see :class:`ExportStream`), ``-o json`` for follows
(one entry per line), and ``short-iso`` for hosts without structured output.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

_SHORT_ISO = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?[+-]\d{2}:?\d{2}) "
    r"(?:(?P<host>[^\s\[\]:]+) )?(?P<ident>[^\s\[]+?)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)$")


class Clock:
    """``__REALTIME_TIMESTAMP`` (µs) to ISO 8601 UTC; the seconds part is cached, since a
    read of thousands of lines spans few distinct seconds."""

    def __init__(self) -> None:
        self._seconds: dict[int, str] = {}

    def __call__(self, usec: Any) -> str | None:
        try:
            sec, frac = divmod(int(usec), 1_000_000)
        except (TypeError, ValueError):
            return None
        head = self._seconds.get(sec)
        if head is None:
            head = self._seconds[sec] = datetime.fromtimestamp(sec, UTC).strftime(
                "%Y-%m-%dT%H:%M:%S")
        return f"{head}.{frac:06d}+00:00"


def _text(value: Any) -> str:
    """A field as -o json gives it: a string, a byte array (binary or invalid UTF-8), a list
    (the field occurs several times) or null (too large to show)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if all(isinstance(b, int) for b in value):
            return bytes(b & 0xFF for b in value).decode("utf-8", "replace")
        return "\n".join(_text(v) for v in value)
    return "[blob data]" if value is None else str(value)


def _digits(value: str | None) -> int | None:
    """A journal field of ASCII digits as an int; anything else (e.g. '²', which
    ``str.isdigit()`` accepts and ``int()`` refuses) as None."""
    return int(value) if value and value.isascii() and value.isdigit() else None


def _int(value: Any) -> int | None:
    if value is not None and not isinstance(value, str):
        value = _text(value)
    return _digits(value)


def _line(entry: dict[str, Any], clock: Clock) -> dict[str, Any]:
    ident = entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM")
    cursor = entry.get("__CURSOR")
    return {"ts": clock(entry.get("__REALTIME_TIMESTAMP")),
            "priority": _int(entry.get("PRIORITY")), "pid": _int(entry.get("_PID")),
            "ident": _text(ident) if ident is not None else None,
            "message": _text(entry.get("MESSAGE", "")),
            "cursor": cursor if isinstance(cursor, str) else None}


def _export_line(entry: dict[str, str], clock: Clock) -> dict[str, Any]:
    """``_line`` for export entries, whose values are all strings (the hot path of reads)."""
    prio, pid = entry.get("PRIORITY"), entry.get("_PID")
    return {"ts": clock(entry.get("__REALTIME_TIMESTAMP")),
            "priority": _digits(prio), "pid": _digits(pid),
            "ident": entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM"),
            "message": entry.get("MESSAGE", ""), "cursor": entry.get("__CURSOR")}


def parse_json_line(raw: str, clock: Clock | None = None) -> dict[str, Any] | None:
    """One ``-o json`` line; None if it is not a JSON object (e.g. sudo's own words)."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    return _line(entry, clock or Clock()) if isinstance(entry, dict) else None


def parse_json(stdout: str) -> list[dict[str, Any]]:
    """All ``-o json`` lines: one json.loads for the lot, line by line if that fails
    (a line cut by the output cap, or a warning in between)."""
    clock = Clock()
    raw = [ln for ln in stdout.splitlines() if ln.strip()]
    try:
        entries = json.loads("[" + ",".join(raw) + "]")
    except ValueError:
        return [ln for ln in (parse_json_line(r, clock) for r in raw) if ln is not None]
    return [_line(e, clock) for e in entries if isinstance(e, dict)]


class ExportStream:
    """Incremental ``-o export`` parser: ``feed`` bytes as they arrive, ``finish`` for the
    lines. Entries are ``NAME=value`` lines ended by a blank line; a value with control
    characters or invalid UTF-8 comes as ``NAME``, a 64-bit little-endian length, the raw
    bytes and a newline. While no such field shows up, each run of complete entries is split
    into lines at C speed; from the first binary field on, it is walked field by field."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self._clock = Clock()
        self._buf = b""
        self._entry: dict[str, str] = {}
        self._binary = False
        self.foreign = False

    def feed(self, data: bytes) -> None:
        if self.foreign:
            return
        self._buf += data
        if len(self._buf) >= 9 and not self.lines and not self._buf.startswith(b"__CURSOR="):
            self.foreign, self._buf = True, b""  # not export output (every entry leads so)
            return
        if not self._binary:
            cut = self._buf.rfind(b"\n\n")
            if cut < 0:
                return
            head = self._buf[:cut + 2]
            parsed = self._text_entries(head)
            if parsed is not None:
                self.lines += parsed
                self._buf = self._buf[cut + 2:]
                return
            self._binary = True
        self._walk()

    def _text_entries(self, head: bytes) -> list[dict[str, Any]] | None:
        out, entry, line = [], {}, _export_line
        for raw in head.decode("utf-8", "replace").split("\n"):
            if not raw:
                if entry:
                    out.append(line(entry, self._clock))
                    entry = {}
                continue
            name, sep, value = raw.partition("=")
            if not sep:
                return None  # a binary field: its length prefix is not text
            entry[name] = value
        return out

    def _walk(self) -> None:
        buf, pos, size = self._buf, 0, len(self._buf)
        while True:
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            if nl == pos:
                if self._entry:
                    self.lines.append(_export_line(self._entry, self._clock))
                    self._entry = {}
                pos += 1
                continue
            eq = buf.find(b"=", pos, nl)
            if eq >= 0:
                self._entry[buf[pos:eq].decode()] = buf[eq + 1:nl].decode("utf-8", "replace")
                pos = nl + 1
                continue
            if size < nl + 9:
                break
            end = nl + 9 + int.from_bytes(buf[nl + 1:nl + 9], "little")
            if size < end + 1:
                break
            self._entry[buf[pos:nl].decode()] = buf[nl + 9:end].decode("utf-8", "replace")
            pos = end + 1
        self._buf = buf[pos:]

    def finish(self) -> list[dict[str, Any]]:
        """The lines parsed; an entry left unfinished (output cut by a cap) is dropped."""
        return self.lines


class Collect:
    """Collects the bytes and parses them once at the end (json, short-iso)."""

    foreign = False

    def __init__(self, parse):
        self.parse = parse
        self._chunks: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self._chunks.append(data)

    def finish(self) -> list[dict[str, Any]]:
        return self.parse(b"".join(self._chunks).decode("utf-8", "replace"))


def parse_export(stdout: str | bytes) -> list[dict[str, Any]]:
    stream = ExportStream()
    stream.feed(stdout.encode() if isinstance(stdout, str) else stdout)
    return stream.finish()


def parse_text_line(raw: str) -> dict[str, Any] | None:
    """One ``short-iso`` line; None for journalctl's ``-- ... --`` markers. A line that does
    not parse is kept whole as the message."""
    if raw.startswith("-- ") and raw.endswith(" --") or not raw.strip():
        return None
    m = _SHORT_ISO.match(raw)
    if not m:
        return {"ts": None, "priority": None, "pid": None, "ident": None, "message": raw,
                "cursor": None}
    ts = m.group("ts")
    try:
        ts = datetime.strptime(ts.replace(",", "."), "%Y-%m-%dT%H:%M:%S%z").isoformat()
    except ValueError:
        pass  # fractional seconds or another variant: keep journalctl's text
    return {"ts": ts, "priority": None, "pid": int(m.group("pid")) if m.group("pid") else None,
            "ident": m.group("ident"), "message": m.group("msg"), "cursor": None}


def parse_text(stdout: str) -> list[dict[str, Any]]:
    lines = (parse_text_line(raw.rstrip("\r")) for raw in stdout.splitlines())
    return [ln for ln in lines if ln is not None]


def sink_for(output: str) -> ExportStream | Collect:
    """A fresh parser for one read in ``output`` form."""
    if output == "export":
        return ExportStream()
    return Collect(parse_json if output == "json" else parse_text)
