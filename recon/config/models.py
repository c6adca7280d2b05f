"""The validated configuration: one dataclass per table of ``recon.toml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import Settings


class ConfigError(Exception):
    """The configuration file is missing or invalid; ``errors`` lists every problem."""

    def __init__(self, source: Path, errors: list[str]):
        self.source = source
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"invalid RECON configuration in {source}:\n{lines}")


@dataclass(frozen=True)
class HostConfig:
    """One SSH target. Paths are the absolute paths of the tools *on that host*."""

    name: str
    address: str
    user: str
    key_path: Path
    port: int = 22
    host_key: str | None = None
    use_sudo: bool = True
    systemctl: str = "/usr/bin/systemctl"
    journalctl: str = "/usr/bin/journalctl"
    sudo: str = "/usr/bin/sudo"
    # Read-only, unprivileged: how the monitor hears of unit changes (recon.monitor.watch).
    dbus_monitor: str = "/usr/bin/dbus-monitor"
    connect_timeout: float = 5.0
    command_timeout: float = 10.0
    max_channels: int = 6
    # The separate login that browser terminals use: no RECON sudo rules, so a terminal
    # cannot do what RECON's automation may. None: terminals on this host are disabled.
    terminal_user: str | None = None

    @property
    def connection_key(self) -> tuple[str, int, str, str]:
        """What makes two hosts share one SSH connection: the same endpoint, user and key."""
        return (self.address, self.port, self.user, str(self.key_path))

    @property
    def endpoint(self) -> str:
        """The ``user@address:port`` string used in messages."""
        return f"{self.user}@{self.address}:{self.port}"

    def ssh_command(self, known_hosts: Path | str, user: str | None = None) -> str:
        """The OpenSSH command that reaches this host exactly as RECON does (port, key,
        RECON's known_hosts, strict host key checking): for troubleshooting hints."""
        import shlex
        return shlex.join(["ssh", "-p", str(self.port), "-i", str(self.key_path),
                           "-o", f"UserKnownHostsFile={known_hosts}",
                           "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                           f"{user or self.user}@{self.address}"])


@dataclass(frozen=True)
class ServiceConfig:
    """One managed systemd unit on one host."""

    slug: str
    name: str
    host: str
    unit: str
    actions: frozenset[str]
    # Who may act on it: usernames and "role:NAME" entries; empty = every operator.
    allow: frozenset[str] = frozenset()
    # The .timer that runs it, if any (the detail view shows its next and last run).
    timer: str | None = None
    # Labels to filter the dashboard by ("web", "prod"), in file order.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReconConfig:
    """The validated configuration: hosts and services in file order."""

    source: Path
    hosts: dict[str, HostConfig]
    services: dict[str, ServiceConfig]
    settings: Settings = field(default_factory=Settings)
    demo: bool = False
    # Notification channels ([notify.NAME], recon.notify.config), by name.
    notify: dict[str, Any] = field(default_factory=dict)
    # Not errors, but worth the operator's attention (logged at start, shown by `recon check`).
    warnings: tuple[str, ...] = ()

    def services_on(self, host: str) -> list[ServiceConfig]:
        """The services of one host, in file order."""
        return [s for s in self.services.values() if s.host == host]
