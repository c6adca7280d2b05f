"""Validated journal queries and the exact journalctl argv built from them.

Nothing here touches Flask or SSH. Every value that reaches the remote argv has passed a
strict pattern first, and no argv element ever contains a space. That last rule is what
makes the sudoers rule exact: sudo matches a regex against the arguments joined by single
spaces, so with space-free elements the joined string splits back into exactly one argv,
and the rule (``sudoers_args_regex``) admits this shape and nothing else -- no second
``-u``, no ``--vacuum-*``/``--rotate``/``--flush``, no ``-D``/``--file``/``--root``, no
other ``--output-fields``. Absolute times (``2026-11-22 10:00``) are the one exception:
their single space sits at a fixed place in the rule, followed by digits and colons only.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from recon.core.errors import InvalidParameter

MAX_LINES = 5000
MAX_STREAM_BACKLOG = 1000
GREP_MAX_CHARS = 200
PRIORITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_PRIORITY_ALIASES = {"panic": 0, "error": 3, "warn": 4}
# Only what a line needs; -o json always adds __CURSOR, __REALTIME_TIMESTAMP,
# __MONOTONIC_TIMESTAMP and _BOOT_ID. About 30% less output than all fields.
OUTPUT_FIELDS = "MESSAGE,PRIORITY,_PID,SYSLOG_IDENTIFIER,_COMM"

#: What a host's journalctl can do: structured output (export/json, cursors) or only text.
Mode = Literal["json", "text"]
#: The ``-o`` forms RECON uses: export for reads, json for follows, short-iso for text hosts.
Output = Literal["export", "json", "short-iso"]

_UNITS = ("us|usec|ms|msec|s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hour|hours|"
          "d|day|days|w|week|weeks|M|month|months|y|year|years")
_RELATIVE = re.compile(rf"^-(?:[0-9]{{1,6}}(?:{_UNITS})){{1,3}}$")
_ABSOLUTE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]([0-9]{2}:[0-9]{2}(?::[0-9]{2})?))?$")
_CLOCK = re.compile(r"^[0-9]{2}:[0-9]{2}(?::[0-9]{2})?$")
_EPOCH = re.compile(r"^@[0-9]{1,11}$")
_WORDS = ("now", "today", "yesterday", "tomorrow")
CURSOR_RE = re.compile(r"^s=[0-9a-f]{32};i=[0-9a-f]{1,16};b=[0-9a-f]{32};m=[0-9a-f]{1,16};"
                       r"t=[0-9a-f]{1,16};x=[0-9a-f]{1,16}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PCRE_SPECIAL = frozenset("\\^$.|?*+()[]{}")

# The same value grammar, in POSIX ERE for the sudoers rule (bounds stay below RE_DUP_MAX).
_TIME_ERE = (r"(-[0-9a-zA-Z]{2,40}|now|today|yesterday|tomorrow|@[0-9]{1,11}|"
             r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?|"
             r"[0-9]{2}:[0-9]{2}(:[0-9]{2})?)")
_CURSOR_ERE = (r"s=[0-9a-f]{32};i=[0-9a-f]{1,16};b=[0-9a-f]{32};m=[0-9a-f]{1,16};"
               r"t=[0-9a-f]{1,16};x=[0-9a-f]{1,16}")


def parse_lines(raw: str | None, default: int, maximum: int, minimum: int = 1) -> int:
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,7}", raw) or not minimum <= int(raw) <= maximum:
        raise InvalidParameter("lines", f"lines must be an integer {minimum}-{maximum}, "
                               f"got {raw[:20]!r}", f"Pass e.g. ?lines={default}.")
    return int(raw)


def parse_priority(raw: str | None) -> int | None:
    """``0``-``7`` or a name (``err``, ``warning``...): that priority and more severe."""
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if re.fullmatch(r"[0-7]", value):
        return int(value)
    if value in PRIORITIES:
        return PRIORITIES.index(value)
    if value in _PRIORITY_ALIASES:
        return _PRIORITY_ALIASES[value]
    raise InvalidParameter("priority", f"unknown priority {raw[:20]!r}",
                           f"Use 0-7 or one of: {', '.join(PRIORITIES)}.")


def parse_time(name: str, raw: str | None) -> str | None:
    """A journalctl time (``-1h``, ``-30min``, ``2026-11-22 10:00[:00]``, ``10:00``,
    ``today``, ``yesterday``, ``now``, ``@EPOCH``), normalized; None if absent."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    hint = (f"Use a journalctl time: ?{name}=-1h, -30min, today, yesterday, now, "
            f"2026-11-22 10:00 or 2026-11-22 10:00:00.")
    if value in _WORDS or _RELATIVE.fullmatch(value) or _EPOCH.fullmatch(value):
        return value
    m = _ABSOLUTE.fullmatch(value)
    if m:
        date, clock = m.group(1), m.group(2)
        try:
            datetime.strptime(date, "%Y-%m-%d")
            if clock:
                datetime.strptime(clock, "%H:%M:%S" if clock.count(":") == 2 else "%H:%M")
        except ValueError:
            raise InvalidParameter(name, f"{name}: {value!r} is not a real date/time",
                                   hint) from None
        # journalctl (252) rejects the ISO "T"; the space is its own form.
        return f"{date} {clock}" if clock else date
    if _CLOCK.fullmatch(value):
        try:
            datetime.strptime(value, "%H:%M:%S" if value.count(":") == 2 else "%H:%M")
        except ValueError:
            raise InvalidParameter(name, f"{name}: {value!r} is not a time of day",
                                   hint) from None
        return value
    raise InvalidParameter(name, f"{name}: {value[:40]!r} is not a time journalctl accepts",
                           hint)


def parse_grep(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) > GREP_MAX_CHARS:
        raise InvalidParameter("grep", f"grep is longer than {GREP_MAX_CHARS} characters",
                               "Search for a shorter piece of the message.")
    if _CONTROL.search(raw):
        raise InvalidParameter("grep", "grep contains control characters (newline, tab...)",
                               "Search for printable text only.")
    return raw


def parse_cursor(raw: str | None, name: str = "cursor") -> str | None:
    if raw is None or raw == "":
        return None
    if not CURSOR_RE.fullmatch(raw):
        raise InvalidParameter(name, f"{name} is not a journal cursor",
                               "Pass the `cursor` of a line RECON returned (s=...;i=...;...).")
    return raw


def grep_pattern(text: str, *, for_argv: bool = True) -> str:
    """``text`` as a PCRE2 pattern matching it literally (journalctl -g takes a regex).

    PCRE2's special characters and a leading ``-`` get a backslash (before a
    non-alphanumeric it is always literal), so the element never starts with ``-``, and a
    ``#`` or ``/`` stays itself; for the argv a space becomes
    ``\\x20``, keeping the element space-free. journalctl's own rule still applies: the
    match is case-insensitive unless the text contains a capital letter.
    """
    out = []
    for i, ch in enumerate(text):
        if ch == " ":
            out.append(r"\x20" if for_argv else " ")
        elif ch in _PCRE_SPECIAL or ch == "-" and i == 0:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class LogQuery:
    """One validated read (or follow) of a unit's journal."""

    unit: str
    lines: int
    priority: int | None = None
    since: str | None = None
    until: str | None = None
    grep: str | None = None
    cursor: str | None = None
    follow: bool = False

    def argv(self, journalctl: str, output: Output = "export", *,
             extra_line: bool = True) -> list[str]:
        """``journalctl`` argv in the one order the sudoers rule admits.

        Reads without a cursor run newest-first (``-r``) so ``-n`` keeps the *newest*
        lines even with ``--since`` (journalctl otherwise keeps the first N after it);
        with a cursor they run forward from it. ``extra_line`` asks for one line more than
        wanted, which tells whether the answer was cut.
        """
        argv = [journalctl, "-u", self.unit, "--no-pager", "-o", output]
        if output != "short-iso":
            argv.append(f"--output-fields={OUTPUT_FIELDS}")
        if self.follow:
            argv.append("-f")
        elif self.cursor is None:
            argv.append("-r")
        if not self.unbounded:
            argv += ["-n", str(self.lines + (1 if extra_line and not self.follow else 0))]
        argv += self._filters(for_argv=True)
        return argv

    @property
    def unbounded(self) -> bool:
        """A forward read after a cursor with ``-g``: journalctl 252 then walks *backwards*
        from the cursor if given ``-n``, so no ``-n`` is sent and the reader cuts the lines."""
        return not self.follow and self.cursor is not None and self.grep is not None

    def _filters(self, *, for_argv: bool) -> list[str]:
        out: list[str] = []
        if self.priority is not None:
            out += ["-p", str(self.priority)]
        # journalctl refuses --since together with a cursor; the cursor is the more precise
        # start (a stream resumed with Last-Event-ID keeps its original `since` in the URL).
        if self.since is not None and self.cursor is None:
            out.append(f"--since={self.since}")
        if self.until is not None:
            out.append(f"--until={self.until}")
        if self.grep is not None:
            out += ["-g", grep_pattern(self.grep, for_argv=for_argv)]
        if self.cursor is not None:
            out.append(f"--after-cursor={self.cursor}")
        return out

    def display(self, journalctl: str, sudo: bool) -> str:
        """The equivalent command line for an operator to run on the host."""
        argv = (["sudo"] if sudo else []) + [journalctl, "-u", self.unit]
        if self.follow:
            argv.append("-f")
        elif self.cursor is None and self.since is not None:
            argv.append("-r")  # the newest N after --since, as RECON shows them
        if not self.unbounded:
            argv += ["-n", str(self.lines)]
        filters = self._filters(for_argv=False)
        if self.priority is not None:  # the name reads better than the number
            filters[filters.index("-p") + 1] = PRIORITIES[self.priority]
        command = shlex.join(argv + filters)
        return f"{command} | head -n {self.lines}" if self.unbounded else command


def sudoers_args_regex(unit: str) -> str:
    """The argument regex (sudo >= 1.9.10) admitting exactly ``LogQuery.argv`` for ``unit``."""
    unit_ere = re.sub(r"([.\\^$*+?()\[\]{}|])", r"\\\1", unit)
    fields = f"--output-fields={OUTPUT_FIELDS}"
    return (f"^-u {unit_ere} --no-pager -o ((export|json) {fields}|short-iso)"
            f"( -f| -r)?( -n [0-9]{{1,5}})?( -p [0-7])?( --since={_TIME_ERE})?"
            f"( --until={_TIME_ERE})?( -g [^- ][^ ]*)?( --after-cursor={_CURSOR_ERE})?$")


def sudoers_journal_command(journalctl: str, unit: str) -> str:
    """The Cmnd of a sudoers line letting RECON read (and follow) ``unit``'s journal."""
    return f"{journalctl} {sudoers_args_regex(unit)}"
