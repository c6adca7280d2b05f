"""The validated configuration: one dataclass per table of ``recon.toml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recon.config.declare import REQUIRED, option
from recon.config.health import HealthCheck
from recon.config.patterns import (
    ACTIONS,
    ADDRESS_RE,
    ALLOW_RE,
    DEFAULT_ACTIONS,
    DISPLAY_NAME_RE,
    PUBKEY_RE,
    REMOTE_PATH_RE,
    SLUG_RE,
    TAG_RE,
    TIMER_RE,
    UNIT_RE,
    USER_RE,
)
from recon.config.settings import Settings
from recon.config.terminal_users import Logins, TerminalLogin, login_for

_ABSOLUTE = "must be an absolute path"


class ConfigError(Exception):
    """The configuration file is missing or invalid; ``errors`` lists every problem."""

    def __init__(self, source: Path, errors: list[str]):
        self.source = source
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"invalid RECON configuration in {source}:\n{lines}")


@dataclass(frozen=True)
class HostConfig:
    """One SSH target, ``[hosts.NAME]``. Paths are the absolute paths of the tools *on that
    host*. Each field but ``name`` is a key, declared with :func:`recon.config.declare.option`."""

    name: str  # the table's name, hosts.NAME
    address: str = option(REQUIRED, "hostname or IP", pattern=ADDRESS_RE,
                          problem="missing or not a hostname/IP address",
                          example="192.168.1.170")
    user: str = option(REQUIRED, "the unprivileged login user on the host (holds RECON's sudo "
                       "rules)", pattern=USER_RE, problem="missing or not a valid login name",
                       example="recon")
    key_path: Path = option(REQUIRED, "the dashboard's private key (0600, no passphrase), "
                            "relative to the config file", key="key",
                            problem="missing (path of the dashboard's private key)",
                            example="id_ed25519")
    port: int = option(22, "the SSH port", low=1, high=65535, problem="must be 1-65535")
    host_key: str | None = option(
        None, "optional pinned host key `TYPE BASE64` (instead of known_hosts)",
        pattern=PUBKEY_RE, problem="expected 'TYPE BASE64' as in a .pub file",
        example="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPasteTheHostKeyHere")
    use_sudo: bool = option(True, "actions run as `sudo -n systemctl ACTION UNIT`")
    systemctl: str = option("/usr/bin/systemctl", "absolute path of systemctl on that host",
                            pattern=REMOTE_PATH_RE, problem=_ABSOLUTE)
    journalctl: str = option("/usr/bin/journalctl", "absolute path of journalctl on that host",
                             pattern=REMOTE_PATH_RE, problem=_ABSOLUTE)
    sudo: str = option("/usr/bin/sudo", "absolute path of sudo on that host", key="sudo_path",
                       pattern=REMOTE_PATH_RE, problem=_ABSOLUTE)
    dbus_monitor: str = option(
        "/usr/bin/dbus-monitor", "how the monitor hears of unit changes (unprivileged, no sudo "
        "rule)", pattern=REMOTE_PATH_RE, problem=_ABSOLUTE)
    connect_timeout: float = option(5.0, "seconds, for each of TCP, SSH banner, key exchange, "
                                    "auth", low=0.1, high=120)
    command_timeout: float = option(10.0, "seconds; a command cut off is also ended on the host",
                                    low=0.5, high=600)
    python: str = option(
        "/usr/bin/python3", "runs the host's health checks (`[services.health]`): http and tcp "
        "checks are a fixed script for it, so the host needs no curl", pattern=REMOTE_PATH_RE,
        problem=_ABSOLUTE)
    max_channels: int = option(6, "commands in flight per host (sshd's MaxSessions is 10)",
                               low=1, high=9)
    # Terminals must not be able to do what RECON's automation may, hence a separate login.
    terminal_user: str | None = option(
        None, "a second login for browser terminals, with no RECON sudo rules (see Terminals); "
        "unset = terminals off for the host but for users mapped in `terminal_users`",
        pattern=USER_RE, problem="not a valid login name",
        example="recon-term")
    # RECON user -> this host's login for their terminal (recon.config.terminal_users).
    terminal_users: Logins | None = option(
        None, "RECON user = host login for this host's terminals (`alice = \"alice-adm\"`, or "
        "`{ login, key }`); wins over `[terminals.users]`; see Terminals, \"As yourself\"",
        kind="table")

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
    """One managed systemd unit on one host, ``[[services]]``; every field is a key."""

    slug: str = option(REQUIRED, "used in URLs", pattern=SLUG_RE)
    name: str = option(REQUIRED, "display name", pattern=DISPLAY_NAME_RE,
                       problem="must be a non-empty string of at most 100 characters",
                       shown_default="the slug", allowed="1 to 100 characters, not blank")
    host: str = option(REQUIRED, "the `hosts.NAME` it runs on", problem="unknown host {value!r}")
    unit: str = option(REQUIRED, "systemd unit (`nginx` means `nginx.service`)",
                       pattern=UNIT_RE, problem="{value!r} is not a valid systemd unit name")
    actions: frozenset[str] = option(
        frozenset(DEFAULT_ACTIONS),
        "what RECON may do to the unit; opt-in extras: `enable disable` (at boot, "
        "`UnitFileState`), `reset-failed`, `mask unmask` (admins only). Each listed systemctl "
        "action gets its own exact line from `recon sudoers` and a gate in `recon check`",
        choices=ACTIONS, problem="must be a list of strings",
        item_problem="unknown action {value!r} (one of {choices})")
    allow: frozenset[str] = option(
        frozenset(), "usernames and `role:NAME` allowed to act", pattern=ALLOW_RE,
        problem="must be a list of usernames or role:viewer|operator|admin",
        shown_default="everyone with operator", example=["role:admin", "alice"])
    timer: str | None = option(
        None, "the `.timer` that runs the service: its detail page shows the timer's next and "
        "last run", pattern=TIMER_RE,
        problem="{value!r} is not a valid systemd timer name (NAME.timer)",
        example="peertube-cleanup.timer")
    tags: tuple[str, ...] = option(
        (), "labels such as `[\"web\", \"prod\"]`: the dashboard filters by them",
        pattern=TAG_RE, problem="must be a list of tags matching {pattern}",
        example=["web", "prod"])
    expect: str = option(
        "running", "`stopped`: the unit is meant to be off, so its being inactive is no "
        "problem (\"Problems only\" leaves it out); a oneshot or timer-run unit between runs "
        "is recognised without it", choices=("running", "stopped"),
        problem="must be running or stopped")
    health: HealthCheck | None = option(
        None, "a health check beyond \"systemd says active\": `[services.health]` after the "
        "service's `[[services]]`, keys `services[].health.*` below", kind="table",
        problem="expected a table ([services.health])")
    reveal_secrets: bool = option(
        False, "admins see the unit's `Environment=` values, command arguments and "
        "credentials on its detail page; everyone else (and admins while this is off) sees "
        "`NAME=(hidden)`")


@dataclass(frozen=True)
class ReconConfig:
    """The validated configuration: hosts and services in file order."""

    source: Path
    hosts: dict[str, HostConfig]
    services: dict[str, ServiceConfig]
    settings: Settings = field(default_factory=Settings)
    demo: bool = False
    # Notification channels ([notify.NAME], recon.config.notify), by name.
    notify: dict[str, Any] = field(default_factory=dict)
    # Not errors, but worth the operator's attention (logged at start, shown by `recon check`).
    warnings: tuple[str, ...] = ()
    # What was read: the sha256 of the file's bytes ("" when parsed from data). Two processes
    # with the same revision run the same config (recon.liveconfig compares them).
    revision: str = ""
    # [terminals.users]: RECON user -> host login on every host (recon.config.terminal_users).
    terminal_users: Logins = ()

    def terminal_login(self, host: HostConfig, user: str) -> TerminalLogin | None:
        """The login ``user``'s terminal on ``host`` runs as, if mapped (else the shared
        ``terminal_user``)."""
        return login_for(host.terminal_users, self.terminal_users, user)

    def services_on(self, host: str) -> list[ServiceConfig]:
        """The services of one host, in file order."""
        return [s for s in self.services.values() if s.host == host]
