"""What a unit's detail view hides: secrets a unit file hands its service.

A unit file (``systemctl cat``), its properties (``systemctl show``) and ``systemctl status``
can carry passwords and tokens: ``Environment=DB_PASSWORD=...``, command arguments
(``ExecStart=/usr/bin/app --token ...``), credentials (``SetCredential=ID:VALUE``). Everyone
sees them redacted to their keys (``DB_PASSWORD=(hidden)``), the program of a command
(``/usr/bin/app (arguments hidden)``) and a credential's id (``ID:(hidden)``); only an admin,
and only for a service whose ``reveal_secrets`` is set, sees the text as the host gave it.

Pure text functions: no Flask, no host.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable

HIDDEN = "(hidden)"
ARGS_HIDDEN = "(arguments hidden)"

# Keys whose value is a list of NAME=VALUE assignments: the names stay, the values go.
ASSIGNMENTS = frozenset({"Environment", "UnsetEnvironment", "LogExtraFields"})
# ... of which these also take a bare NAME (any other bare word may be part of a value).
BARE_NAMES = frozenset({"UnsetEnvironment"})
# Keys whose value is a command line: the program stays, the arguments go.
COMMANDS = frozenset({"ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost",
                      "ExecReload", "ExecStop", "ExecStopPre", "ExecStopPost"})
# Keys whose value is ID:DATA (a credential): the id stays, the data goes.
CREDENTIALS = frozenset({"SetCredential", "SetCredentialEncrypted", "LoadCredential",
                         "LoadCredentialEncrypted"})
# Keys whose whole value is data handed to the service.
WHOLE = frozenset({"StandardInputText", "StandardInputData"})

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A unit file line "Key=value" (also commented out: "#Key=value" may still hold a secret).
_LINE = re.compile(r"(?P<lead>\s*(?:[#;]\s*)?)(?P<key>[A-Za-z]+)(?P<eq>\s*=\s*)(?P<value>.*)",
                   re.S)
# A command in ``systemctl show``: "{ path=/bin/app ; argv[]=/bin/app --x y ; flags= ; ... }"
_ARGV = re.compile(r"argv\[\]=(?P<prog>\S*)(?P<args>.*?)(?= ; (?:ignore_errors|flags)=| \}|$)")
# ``systemctl status``: "Process: 85 ExecStartPre=/bin/app --x (code=exited, status=0/SUCCESS)"
_PROCESS = re.compile(r"(?P<lead>\s*Process: \d+ \w+=)(?P<prog>\S+)(?P<args>.*?)"
                      r"(?P<tail> \(code=[^()]*\))?")
# ... and a process of its control group: "  ├─123 /usr/bin/app --x" (or ASCII "|-123 ...").
_CGROUP = re.compile(r"(?P<lead>\s*(?:[│|]\s*)*[├└|`][─-])(?P<pid>\d+) (?P<prog>\S+)(?P<args>.*)")


def assignments(value: str, *, bare_names: bool = False) -> str:
    """``A=1 "B=two words"`` -> ``A=(hidden) B=(hidden)``; a bare name stays only where the
    key takes one (``bare_names``: ``UnsetEnvironment=HOME``), else it may be part of an
    unquoted value; anything unreadable is hidden whole."""
    try:
        words = shlex.split(value)
    except ValueError:  # unbalanced quotes: nothing in it can be told apart safely
        return HIDDEN if value.strip() else value
    shown = []
    for word in words:
        name, sep, _ = word.partition("=")
        shown.append(f"{name}={HIDDEN}" if sep and _NAME.fullmatch(name) else
                     word if bare_names and not sep and _NAME.fullmatch(word) else HIDDEN)
    return " ".join(shown)


def command(value: str) -> str:
    """``-/usr/bin/app --token x`` -> ``-/usr/bin/app (arguments hidden)``."""
    match = re.fullmatch(r"(?P<prog>[-@:+!|]*\S+)(?P<args>\s.*)?", value.strip(), re.S)
    if match is None or not (match["args"] or "").strip():
        return value
    return f"{match['prog']} {ARGS_HIDDEN}"


def credential(value: str) -> str:
    """``ID:DATA`` -> ``ID:(hidden)`` (an id alone stays)."""
    ident, sep, _ = value.partition(":")
    return f"{ident}:{HIDDEN}" if sep else value


def _file_value(key: str) -> Callable[[str], str] | None:
    if key in ASSIGNMENTS:
        return lambda value: assignments(value, bare_names=key in BARE_NAMES)
    if key in COMMANDS:
        return command
    if key in CREDENTIALS:
        return credential
    if key in WHOLE:
        return lambda value: HIDDEN if value.strip() else value
    return None


def _logical_lines(lines: list[str]) -> Iterable[list[str]]:
    """The file's lines, a line ending in a backslash together with those it continues on."""
    group: list[str] = []
    for line in lines:
        group.append(line)
        if not line.rstrip().endswith("\\"):
            yield group
            group = []
    if group:
        yield group


def redact_file(text: str) -> str:
    """A unit file (``systemctl cat``, every file it shows) with its secrets hidden; a
    continued secret-bearing line becomes one line."""
    out = []
    for group in _logical_lines(text.split("\n")):
        match = _LINE.fullmatch(group[0])
        hide = _file_value(match["key"]) if match else None
        if hide is None:
            out.extend(group)
            continue
        value = " ".join(part.rstrip().removesuffix("\\").strip()
                         for part in [match["value"], *group[1:]])
        out.append(f"{match['lead']}{match['key']}{match['eq']}{hide(value.strip())}")
    return "\n".join(out)


def _property(key: str, value: str) -> str:
    if not value:
        return value
    if key.removesuffix("Ex") in COMMANDS or "argv[]=" in value:
        if "argv[]=" not in value:  # a command in a shape not known here: hidden whole
            return HIDDEN
        return _ARGV.sub(lambda m: f"argv[]={m['prog']} {ARGS_HIDDEN}" if m["args"].strip()
                         else m[0], value)
    hide = _file_value(key)
    return hide(value) if hide is not None else value


def redact_properties(props: dict[str, str]) -> dict[str, str]:
    """``systemctl show``'s properties with their secrets hidden (every command's
    ``argv[]``, the assignment and credential lists, standard input data)."""
    return {key: _property(key, value) for key, value in props.items()}


def _status_line(line: str) -> str:
    match = _PROCESS.fullmatch(line)
    if match is not None and match["args"].strip():
        return f"{match['lead']}{match['prog']} {ARGS_HIDDEN}{match['tail'] or ''}"
    match = _CGROUP.fullmatch(line)
    if match is not None and match["args"].strip():
        return f"{match['lead']}{match['pid']} {match['prog']} {ARGS_HIDDEN}"
    return line


def redact_status(text: str) -> str:
    """``systemctl status`` with the arguments of its processes hidden (``Process:`` lines
    and the control group's tree)."""
    return "\n".join(_status_line(line) for line in text.split("\n"))
