"""The systemd command layer: argv for ``systemctl`` calls and parsing of ``systemctl show``.

Status is read from structured ``systemctl show`` properties, never by matching the human
text of ``systemctl status``. The parser is tolerant: some systemctl implementations leave
properties out, and an unknown unit is a normal answer (``LoadState=not-found``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from recon.config import SYSTEMCTL_ACTIONS, HostConfig, ServiceConfig
from recon.ssh import CommandFailed, CommandResult, Executor, SudoRefused
from recon.ssh.errors import is_sudo_refusal
from recon.ssh.executor import privileged

STATUS_PROPERTIES = (
    "Id", "Description", "LoadState", "ActiveState", "SubState", "UnitFileState", "MainPID",
    "ActiveEnterTimestamp", "ExecMainStatus", "MemoryCurrent", "NRestarts",
    "Result", "ExecMainCode", "InactiveEnterTimestamp", "StateChangeTimestamp",
    # Whether inactive is its resting state: a oneshot without RemainAfterExit, a timer's.
    "Type", "RemainAfterExit", "TriggeredBy",
)
# systemd prints this for "no value" in unsigned properties such as MemoryCurrent.
_UINT64_MAX = 2**64 - 1
# ExecMainCode is a siginfo si_code: CLD_EXITED, CLD_KILLED, CLD_DUMPED (0: never ran).
EXEC_MAIN_CODES = {1: "exited", 2: "killed", 3: "dumped"}
#: ActiveState values of a unit on its way somewhere (the dashboard shows them as such).
TRANSITIONAL_STATES = ("activating", "deactivating", "reloading")
# Hosts whose systemctl refused --timestamp=unix (systemd < 248): asked without it from then on.
_NO_UNIX_TIMESTAMPS: set[tuple[str, int]] = set()
_lock = threading.Lock()


def show_argv(host: HostConfig, units: Sequence[str], *,
              unix_timestamps: bool | None = None) -> list[str]:
    """One ``systemctl show`` for every unit; no sudo: status is world-readable.

    ``--timestamp=unix`` (systemd >= 248) makes times ``@EPOCH`` instead of local text; by
    default it is sent unless this host's systemctl already refused it once.
    """
    if unix_timestamps is None:
        with _lock:
            unix_timestamps = (host.address, host.port) not in _NO_UNIX_TIMESTAMPS
    argv = [host.systemctl, "show", "--property=" + ",".join(STATUS_PROPERTIES)]
    return [*argv, "--timestamp=unix", *units] if unix_timestamps else [*argv, *units]


def action_argv(host: HostConfig, action: str, unit: str) -> list[str]:
    """``sudo -n systemctl ACTION UNIT`` — ``-n`` so a missing rule fails at once."""
    if action not in SYSTEMCTL_ACTIONS:
        raise ValueError(f"not a systemctl action: {action}")
    return privileged(host, [host.systemctl, action, unit])


def sudo_refused(result: CommandResult) -> bool:
    """Whether sudo stopped the command for want of a matching NOPASSWD rule."""
    return is_sudo_refusal(result.exit_code, result.stderr)


def _blocks(text: str) -> list[dict[str, str]]:
    blocks, current = [], {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key.strip()] = value
    if current:
        blocks.append(current)
    return blocks


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value not in (None, "", "[not set]") else None
    except ValueError:
        return None
    return None if number == _UINT64_MAX else number


def parse_timestamp(value: str | None) -> datetime | None:
    """A ``systemctl show`` time as an aware UTC datetime, or None (empty, 0, unparseable).

    Accepts ``@EPOCH`` (``--timestamp=unix``) and the default ``Sun 2026-11-29 17:07:34 UTC``
    form when its zone is UTC (other zones are ambiguous abbreviations: None).
    """
    if not value or value in ("0", "n/a", "[not set]"):
        return None
    value = value.strip()
    try:
        if value.startswith("@"):
            epoch = float(value[1:])
            return datetime.fromtimestamp(epoch, UTC) if epoch > 0 else None
        parts = value.split()
        if len(parts) == 4 and parts[3] in ("UTC", "GMT"):
            return datetime.strptime(" ".join(parts[1:3]), "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    return None


def _iso(value: str | None) -> str | None:
    when = parse_timestamp(value)
    return when.isoformat().replace("+00:00", "Z") if when else None


def _signal_name(number: int | None) -> str | None:
    try:
        return signal.Signals(number).name if number else None
    except ValueError:
        return f"SIG{number}"


def parse_properties(props: dict[str, str], unit: str) -> dict[str, Any]:
    """One unit's properties as RECON's status object.

    ``since`` is when the unit last became active, ISO-8601 UTC (``...Z``) when the host's
    format allows, else the raw text; ``exit_code``/``exit_signal`` describe the main
    process's last end (``ExecMainCode`` 1 = exited with a code, 2 = killed, 3 = dumped core).
    """
    state = props.get("ActiveState") or "unknown"
    load_state = props.get("LoadState") or "unknown"
    main_pid = _int(props.get("MainPID"))
    code = _int(props.get("ExecMainCode"))
    status = _int(props.get("ExecMainStatus"))
    how = EXEC_MAIN_CODES.get(code or 0)
    active_enter = props.get("ActiveEnterTimestamp") or None
    when = parse_timestamp(active_enter)
    return {
        "unit": unit,
        "active": state == "active",
        "state": state,
        "sub_state": props.get("SubState") or None,
        "load_state": load_state,
        "enabled": props.get("UnitFileState") or None,
        "since": _iso(active_enter) or (None if active_enter in (None, "0") else active_enter),
        "since_epoch": when.timestamp() if when else None,
        "main_pid": main_pid or None,
        "memory_bytes": _int(props.get("MemoryCurrent")),
        "restarts": _int(props.get("NRestarts")),
        "exit_status": status,
        "description": props.get("Description") or None,
        "result": props.get("Result") or None,
        "exited_how": how,
        "exit_code": status if how == "exited" else None,
        "exit_signal": _signal_name(status) if how in ("killed", "dumped") else None,
        "inactive_since": _iso(props.get("InactiveEnterTimestamp")),
        "state_changed": _iso(props.get("StateChangeTimestamp")),
        "transitioning": state in TRANSITIONAL_STATES,
        "masked": load_state == "masked",
        "found": load_state not in ("not-found", "unknown"),
        "type": props.get("Type") or None,
        "remain_after_exit": props.get("RemainAfterExit") == "yes",
        "timer_driven": any(u.endswith(".timer") for u in props.get("TriggeredBy", "").split()),
    }


def parse_show(text: str, units: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Map each requested unit to its status. Blocks come back in the order asked; Id is only
    a fallback because an alias (``sshd.service``) answers with its real name."""
    blocks = _blocks(text)
    if len(blocks) != len(units):
        by_id = {b.get("Id"): b for b in blocks}
        blocks = [by_id.get(u, {}) for u in units]
    return {u: parse_properties(b, u) for u, b in zip(units, blocks, strict=True)}


def fetch_statuses(executor: Executor, host: HostConfig, units: Iterable[str], *,
                   timeout: float | None = None,
                   probe: bool = False) -> dict[str, dict[str, Any]]:
    """Status of several units of one host in ONE remote command (``timeout`` defaults to
    the host's command_timeout; ``probe`` ignores the host's back-off, see Executor.run)."""
    units = list(dict.fromkeys(units))
    argv = show_argv(host, units)
    result = executor.run(host, argv, timeout=timeout, probe=probe)
    if result.exit_code != 0 and "--timestamp=unix" in argv and "--timestamp" in result.stderr:
        # systemd < 248: remember for this host, ask again in the old format.
        with _lock:
            _NO_UNIX_TIMESTAMPS.add((host.address, host.port))
        result = executor.run(host, show_argv(host, units), timeout=timeout, probe=probe)
    if result.exit_code != 0 and not result.stdout.strip():
        raise CommandFailed(f"systemctl show failed on {host.name} (exit {result.exit_code}): "
                          f"{result.stderr.strip()[:300]}",
                          hint=f"Check that {host.systemctl} exists on the host "
                               "(set `systemctl` for this host in recon.toml).", host=host.name)
    return parse_show(result.stdout, units)


def run_action(executor: Executor, host: HostConfig, service: ServiceConfig,
               action: str) -> CommandResult:
    """Run one allowed systemctl action; a sudo refusal becomes :class:`SudoRefused`."""
    result = executor.run(host, action_argv(host, action, service.unit))
    if sudo_refused(result):
        raise SudoRefused(f"sudo on {host.name} refused `systemctl {action} {service.unit}` "
                          f"without a password: {result.stderr.strip()[:300]}", host=host.name)
    return result
