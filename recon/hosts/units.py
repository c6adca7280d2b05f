"""Every unit of a host, read with ONE unprivileged remote command and parsed into records.

``systemctl list-units --all`` knows the loaded units (load, active and sub state,
description); ``systemctl list-unit-files`` knows the installed ones (enabled, disabled,
static, masked ...), loaded or not. Both run in one ``sh -c`` over the host's pooled
connection, each an argv list joined with ``shlex.join`` from the host's validated config (no
request value ever reaches the command). No sudo: both are world-readable, as in Cockpit.

``--output=json`` (systemd >= 250; Debian 12 has 252) gives exact fields; an older systemctl
accepts the flag and prints its plain table, which is parsed too.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from typing import Any

from recon.config import HostConfig
from recon.ssh import CommandFailed, Executor

# Printed between the two commands' outputs; neither a unit name nor JSON can be this line.
SEPARATOR = "--recon-unit-files--"
# Unit-file states that name another unit (the alias is listed under its real name).
SKIPPED_FILE_STATES = ("alias",)
#: The fields of a unit record, in the order the CLI prints them.
FIELDS = ("name", "type", "load", "active", "sub", "file_state", "preset", "description")


def list_argv(host: HostConfig) -> list[str]:
    """The one remote command: both listings, separated by :data:`SEPARATOR`."""
    flags = ["--no-legend", "--plain", "--full", "--no-pager", "--output=json"]
    units = [host.systemctl, "list-units", "--all", *flags]
    files = [host.systemctl, "list-unit-files", *flags]
    script = f"{shlex.join(units)}; echo {SEPARATOR}; {shlex.join(files)}"
    return ["sh", "-c", script]


def unit_type(name: str) -> str:
    """``nginx.service`` -> ``service``."""
    return name.rpartition(".")[2] if "." in name else ""


def _none(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if text and text != "-" else None


def _loaded(text: str) -> list[dict[str, str | None]]:
    """``list-units`` rows as {name, load, active, sub, description}."""
    text = text.strip()
    if text.startswith("["):
        return [{"name": str(r.get("unit", "")), "load": _none(r.get("load")),
                 "active": _none(r.get("active")), "sub": _none(r.get("sub")),
                 "description": _none(r.get("description"))}
                for r in json.loads(text) if r.get("unit")]
    rows = []
    for line in text.splitlines():
        parts = line.split(None, 4)
        if len(parts) < 4:
            continue
        name, load, active, sub = parts[:4]
        rows.append({"name": name, "load": load, "active": active, "sub": sub,
                     "description": parts[4].strip() if len(parts) > 4 else None})
    return rows


def _files(text: str) -> list[tuple[str, str | None, str | None]]:
    """``list-unit-files`` rows as (name, state, preset)."""
    text = text.strip()
    if text.startswith("["):
        return [(str(r["unit_file"]), _none(r.get("state")), _none(r.get("preset")))
                for r in json.loads(text) if r.get("unit_file")]
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            rows.append((parts[0], _none(parts[1]), _none(parts[2]) if len(parts) > 2 else None))
    return rows


def merge(loaded: Iterable[dict[str, str | None]],
          files: Iterable[tuple[str, str | None, str | None]]) -> list[dict[str, Any]]:
    """One record per unit: the loaded ones, then the installed ones nothing has loaded
    (``load`` None: systemd has not read them; they are inactive by definition). Aliases are
    left out: their unit is listed under its own name."""
    by_file = {name: (state, preset) for name, state, preset in files}
    units: dict[str, dict[str, Any]] = {}
    for row in loaded:
        name = str(row["name"])
        state, preset = by_file.get(name, (None, None))
        units[name] = {"name": name, "type": unit_type(name), "load": row["load"],
                       "active": row["active"] or "unknown", "sub": row["sub"],
                       "file_state": state, "preset": preset,
                       "description": row["description"]}
    for name, (state, preset) in by_file.items():
        if name in units or state in SKIPPED_FILE_STATES:
            continue
        units[name] = {"name": name, "type": unit_type(name), "load": None,
                       "active": "inactive", "sub": "dead", "file_state": state,
                       "preset": preset, "description": None}
    return sorted(units.values(), key=lambda u: u["name"])


def parse(stdout: str) -> list[dict[str, Any]]:
    """The records in the output of :func:`list_argv` (ValueError when it is not that)."""
    head, sep, tail = stdout.partition(f"\n{SEPARATOR}\n")
    if not sep:
        head, sep, tail = stdout.partition(f"{SEPARATOR}\n")
        if not sep or head.strip():
            raise ValueError("the output has no unit-files part")
    try:
        loaded, files = _loaded(head), _files(tail)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"unreadable systemctl output: {exc}") from None
    # Every systemd has loaded and installed units: an empty part is a command that failed.
    if not loaded or not files:
        raise ValueError("systemctl listed no " + ("units" if not loaded else "unit files"))
    return merge(loaded, files)


def read_units(executor: Executor, host: HostConfig, *,
               timeout: float | None = None) -> list[dict[str, Any]]:
    """Every unit of ``host`` (a RemoteError when the host cannot be asked; CommandFailed
    when systemctl's answer is not the listing)."""
    result = executor.run(host, list_argv(host), timeout=timeout)
    try:
        return parse(result.stdout)
    except ValueError as exc:
        raise CommandFailed(
            f"listing the units of {host.name} failed (exit {result.exit_code}): "
            f"{(result.stderr.strip() or str(exc))[:300]}",
            hint=f"Run `{host.systemctl} list-units --all` on the host as {host.user}; set "
                 "`systemctl` for this host in recon.toml if it lives elsewhere.",
            host=host.name) from None
