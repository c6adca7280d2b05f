"""The recon.toml that points RECON at running demo hosts."""

from __future__ import annotations

import json
from pathlib import Path

from recon.demo.info import TargetInfo

# Which actions each demo unit allows; a unit not named here gets every action.
DEMO_ACTIONS = {
    "demo-cron.service": ["status", "start", "stop", "restart", "logs"],
    "demo-stuck.service": ["status", "reload", "logs"],
    "demo-backup.service": ["status", "start", "logs"],  # a oneshot: start = run it now
}
# Every action, the opt-in ones (boot setup, reset-failed, mask) included, so tests can use them.
# The timer that runs a demo unit (when a test manages that unit).
DEMO_TIMERS = {"demo-backup.service": "demo-backup.timer"}
# Tags of the demo units, to filter the page by.
DEMO_TAGS = {"demo-web.service": ["web", "prod"], "demo-worker.service": ["prod"],
             "demo-cron.service": ["batch"]}
ALL_ACTIONS = ["status", "start", "stop", "restart", "reload", "logs",
               "enable", "disable", "reset-failed", "mask", "unmask"]


def _q(value: object) -> str:
    # JSON strings are valid TOML basic strings for the characters used here.
    return json.dumps(str(value))


def demo_config_toml(targets: list[TargetInfo], *, command_timeout: float = 10,
                     connect_timeout: float = 5,
                     known_hosts: Path | None = None) -> str:
    """A recon.toml text with one host per target and one service per demo unit."""
    known_hosts = known_hosts or targets[0].known_hosts_path
    lines = ["demo = true", "", "[settings]", f"known_hosts = {_q(known_hosts)}",
             ""]
    for t in targets:
        lines += [
            f"[hosts.{t.name}]", f"address = {_q(t.address)}", f"port = {t.port}",
            f"user = {_q(t.user)}", f"key = {_q(t.key_path)}",
            f"systemctl = {_q(t.systemctl)}", f"journalctl = {_q(t.journalctl)}",
            f"sudo_path = {_q(t.sudo)}", f"command_timeout = {command_timeout}",
            f"connect_timeout = {connect_timeout}", "",
        ]
        if getattr(t, "terminal_user", None):
            lines.insert(len(lines) - 1, f"terminal_user = {_q(t.terminal_user)}")
    for t in targets:
        for unit in t.units:
            stem = unit.removesuffix(".service")
            slug = stem if len(targets) == 1 else f"{t.name}-{stem}"
            actions = DEMO_ACTIONS.get(unit, ALL_ACTIONS)
            lines += ["[[services]]", f"slug = {_q(slug)}",
                      f"name = {_q(stem.replace('-', ' ').title())}", f"host = {_q(t.name)}",
                      f"unit = {_q(unit)}", f"actions = {json.dumps(actions)}"]
            if unit in DEMO_TAGS:
                lines.append(f"tags = {json.dumps(DEMO_TAGS[unit])}")
            if unit in DEMO_TIMERS:
                lines.append(f"timer = {_q(DEMO_TIMERS[unit])}")
            lines.append("")
    return "\n".join(lines)



# The keys of a demo host that change with every boot (addresses, the run folder's key);
# everything else in the file is the user's and is kept.
_BOOT_KEYS = ("address", "port", "user", "key", "systemctl", "journalctl", "sudo_path",
              "terminal_user")


def refresh_demo_config(old: str, targets: list[TargetInfo]) -> str:
    """``old`` (the demo's recon.toml from an earlier start, maybe edited since) pointed at
    this boot's hosts: each demo host's connection keys and the known_hosts path are
    rewritten, every other line (services, channels, settings, comments) kept. A file that
    no longer parses is replaced by a fresh one (the caller keeps a backup)."""
    import tomlkit

    fresh = tomlkit.parse(demo_config_toml(targets))
    try:
        doc = tomlkit.parse(old)
    except tomlkit.exceptions.ParseError:
        return tomlkit.dumps(fresh)
    doc.setdefault("settings", tomlkit.table())["known_hosts"] = \
        fresh["settings"]["known_hosts"]
    hosts = doc.setdefault("hosts", tomlkit.table(is_super_table=True))
    for name, values in fresh["hosts"].items():
        if name not in hosts:
            hosts[name] = values
            continue
        for key in _BOOT_KEYS:
            if key in values:
                hosts[name][key] = values[key]
    return tomlkit.dumps(doc)
