"""The systemd command layer: argv for ``systemctl`` calls and parsing of ``systemctl show``.

Status is read from structured ``systemctl show`` properties, never by matching the human
text of ``systemctl status``. The parser is tolerant: some systemctl implementations leave
properties out, and an unknown unit is a normal answer (``LoadState=not-found``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .config import SYSTEMCTL_ACTIONS, HostConfig, ServiceConfig
from .ssh import CommandFailed, CommandResult, Executor, SudoRefused
from .ssh.errors import is_sudo_refusal

STATUS_PROPERTIES = (
    "Id", "Description", "LoadState", "ActiveState", "SubState", "UnitFileState", "MainPID",
    "ActiveEnterTimestamp", "ExecMainStatus", "MemoryCurrent", "NRestarts",
)
# systemd prints this for "no value" in unsigned properties such as MemoryCurrent.
_UINT64_MAX = 2**64 - 1


def show_argv(host: HostConfig, units: Sequence[str]) -> list[str]:
    """One ``systemctl show`` for every unit; no sudo: status is world-readable."""
    return [host.systemctl, "show", "--property=" + ",".join(STATUS_PROPERTIES), *units]


def action_argv(host: HostConfig, action: str, unit: str) -> list[str]:
    """``sudo -n systemctl ACTION UNIT`` — ``-n`` so a missing rule fails at once."""
    if action not in SYSTEMCTL_ACTIONS:
        raise ValueError(f"not a systemctl action: {action}")
    argv = [host.systemctl, action, unit]
    return [host.sudo, "-n", *argv] if host.use_sudo else argv


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


def parse_properties(props: dict[str, str], unit: str) -> dict[str, Any]:
    """One unit's properties as RECON's status object."""
    state = props.get("ActiveState") or "unknown"
    load_state = props.get("LoadState") or "unknown"
    main_pid = _int(props.get("MainPID"))
    return {
        "unit": unit,
        "active": state == "active",
        "state": state,
        "sub_state": props.get("SubState") or None,
        "load_state": load_state,
        "enabled": props.get("UnitFileState") or None,
        "since": props.get("ActiveEnterTimestamp") or None,
        "main_pid": main_pid or None,
        "memory_bytes": _int(props.get("MemoryCurrent")),
        "restarts": _int(props.get("NRestarts")),
        "exit_status": _int(props.get("ExecMainStatus")),
        "description": props.get("Description") or None,
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
