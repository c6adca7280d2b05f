"""Load and validate RECON's host and service configuration (``recon.toml``).

Everything the dashboard ever puts into a remote command comes from here, so every value is
checked against a strict pattern before the app starts. An invalid file refuses to start with
all its errors listed, each naming the file and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .settings import SETTING_RANGES, Settings  # noqa: F401  (re-exported)

ACTIONS = ("status", "start", "stop", "restart", "reload", "logs",
           "enable", "disable", "reset-failed", "mask", "unmask")
SYSTEMCTL_ACTIONS = ("start", "stop", "restart", "reload",
                     "enable", "disable", "reset-failed", "mask", "unmask")
# What a service may do when its `actions` are not listed: the actions RECON always had.
# Changing the boot setup and masking are opt-in (list them), so existing files keep meaning
# what they meant and their sudoers drop-ins stay valid.
DEFAULT_ACTIONS = ("status", "start", "stop", "restart", "reload", "logs")
# Actions on the running unit (the row's buttons) and on its installation (the detail panel).
RUN_ACTIONS = ("start", "stop", "restart", "reload")
SETUP_ACTIONS = ("enable", "disable", "reset-failed", "mask", "unmask")
# Only admins may mask or unmask: a masked unit cannot be started by anyone until unmasked.
ADMIN_ACTIONS = ("mask", "unmask")

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HOST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
# Hostnames and IPv4/IPv6 literals; never anything starting with "-" (an ssh option).
ADDRESS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$")
USER_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
REMOTE_PATH_RE = re.compile(r"^/[A-Za-z0-9._+/-]{1,254}$")
UNIT_SUFFIXES = (
    "service", "socket", "target", "timer", "mount", "automount", "path", "swap", "slice",
    "scope", "device",
)
# systemd's own rule, minus the backslash escapes (they would need escaping in sudoers too).
UNIT_RE = re.compile(
    r"^[A-Za-z0-9_:][A-Za-z0-9:_.@-]{0,240}\.(" + "|".join(UNIT_SUFFIXES) + r")$"
)
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
ALLOW_RE = re.compile(r"^(role:(viewer|operator|admin)|[A-Za-z0-9][A-Za-z0-9_.@:-]{0,69})$")
PUBKEY_RE = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$")



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


def normalize_unit(unit: str) -> str:
    """``nginx`` means ``nginx.service`` to systemctl; say so explicitly everywhere."""
    if "." not in unit:
        return unit + ".service"
    return unit


def _coerce(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return type(default)(value)


def _settings(raw: dict[str, Any], env: dict[str, str], errors: list[str], src: Path) -> Settings:
    values: dict[str, Any] = {}
    for f in fields(Settings):
        default = f.default
        value = raw.get(f.name, default)
        env_value = env.get(f"RECON_{f.name.upper()}")
        try:
            if env_value is not None:
                value = _coerce(env_value, default)
            elif not isinstance(value, type(default)) and not (
                isinstance(default, float) and isinstance(value, int)
            ):
                raise TypeError
            values[f.name] = type(default)(value)
        except (TypeError, ValueError):
            errors.append(f"{src}: settings.{f.name}: expected {type(default).__name__}")
            continue
        bounds = SETTING_RANGES.get(f.name)
        if bounds and not bounds[0] <= values[f.name] <= bounds[1]:
            errors.append(f"{src}: settings.{f.name}: {values[f.name]!r} is out of range "
                          f"({bounds[0]:g} to {bounds[1]:g})")
    if isinstance(values.get("known_hosts"), str) and not values["known_hosts"].strip():
        errors.append(f"{src}: settings.known_hosts: must name a file")
    unknown = set(raw) - {f.name for f in fields(Settings)}
    errors.extend(f"{src}: settings.{k}: unknown setting" for k in sorted(unknown))
    return Settings(**values) if len(values) == len(fields(Settings)) else Settings()


def _key_problems(path: Path, where: str, errors: list[str], warnings: list[str]) -> None:
    """The dashboard's key: readable, not encrypted, not readable by other users."""
    if not os.access(path, os.R_OK) or not path.is_file():
        errors.append(f"{where}.key: cannot read key file {path}")
        return
    if path.stat().st_mode & 0o077:
        warnings.append(f"{where}.key: {path} is readable by other users (chmod 600 {path})")
    try:
        import paramiko
        paramiko.PKey.from_path(path)
    except (paramiko.PasswordRequiredException, TypeError):  # TypeError: cryptography's
        errors.append(f"{where}.key: {path} is locked with a passphrase; RECON needs a key "
                      "without one (make one with `flask --app wsgi recon keygen`)")
    except (paramiko.SSHException, OSError, ValueError) as exc:
        errors.append(f"{where}.key: {path} is not a usable private key ({exc})")


def _host(name: str, raw: Any, base: Path, errors: list[str], src: Path,
          warnings: list[str] | None = None, check_keys: bool = True) -> HostConfig | None:
    where = f"{src}: hosts.{name}"
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table")
        return None
    before = len(errors)
    if not HOST_NAME_RE.match(name):
        errors.append(f"{where}: host name must match {HOST_NAME_RE.pattern}")
    known = {f.name for f in fields(HostConfig)} - {"name", "key_path", "use_sudo"}
    known |= {"key", "sudo_path", "use_sudo"}
    for key in sorted(set(raw) - known):
        errors.append(f"{where}.{key}: unknown key")

    def get(key: str, typ: type | tuple[type, ...], default: Any = None) -> Any:
        value = raw.get(key, default)
        if value is None:
            return None
        # bool is an int in Python; a port of `true` must still be refused.
        if typ is bool:
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, typ) and not isinstance(value, bool)
        if ok:
            return value
        errors.append(f"{where}.{key}: expected {getattr(typ, '__name__', 'number')}")
        return default

    address = get("address", str)
    if not address or not ADDRESS_RE.match(address):
        errors.append(f"{where}.address: missing or not a hostname/IP address")
    user = get("user", str)
    if not user or not USER_RE.match(user):
        errors.append(f"{where}.user: missing or not a valid login name")
    terminal_user = get("terminal_user", str)
    if terminal_user is not None and not USER_RE.match(terminal_user):
        errors.append(f"{where}.terminal_user: not a valid login name")
    elif terminal_user is not None and terminal_user == user:
        errors.append(f"{where}.terminal_user: must differ from user ({user}): the terminal "
                      "login must not hold RECON's sudo rules")
    port = get("port", int, 22)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        errors.append(f"{where}.port: must be 1-65535")
    key = get("key", str)
    key_path = (base / key) if key else None
    if key_path is None:
        errors.append(f"{where}.key: missing (path of the dashboard's private key)")
    elif check_keys:
        _key_problems(key_path, where, errors, warnings if warnings is not None else [])
    host_key = get("host_key", str)
    if host_key is not None and not PUBKEY_RE.match(host_key.strip()):
        errors.append(f"{where}.host_key: expected 'TYPE BASE64' as in a .pub file")
    paths = {}
    for key_name, attr in (("systemctl", "systemctl"), ("journalctl", "journalctl"),
                           ("sudo_path", "sudo"), ("dbus_monitor", "dbus_monitor")):
        value = get(key_name, str, getattr(HostConfig, attr))
        if not isinstance(value, str) or not REMOTE_PATH_RE.match(value):
            errors.append(f"{where}.{key_name}: must be an absolute path")
        paths[attr] = value
    numbers = {}
    for key_name, lo, hi in (("connect_timeout", 0.1, 120), ("command_timeout", 0.5, 600),
                             ("max_channels", 1, 9)):
        value = get(key_name, (int, float), getattr(HostConfig, key_name))
        if not isinstance(value, (int, float)) or not lo <= value <= hi:
            errors.append(f"{where}.{key_name}: must be between {lo} and {hi}")
        numbers[key_name] = value
    use_sudo = get("use_sudo", bool, True)
    if len(errors) > before:
        return None
    return HostConfig(
        name=name, address=address, user=user, key_path=key_path, port=port,
        host_key=host_key.strip() if host_key else None, use_sudo=use_sudo,
        terminal_user=terminal_user,
        max_channels=int(numbers["max_channels"]),
        connect_timeout=float(numbers["connect_timeout"]),
        command_timeout=float(numbers["command_timeout"]), **paths,
    )


def _service(i: int, raw: Any, hosts: dict[str, Any], errors: list[str],
             src: Path) -> ServiceConfig | None:
    where = f"{src}: services[{i}]"
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table")
        return None
    before = len(errors)
    for key in sorted(set(raw) - {"slug", "name", "host", "unit", "actions", "allow", "timer",
                                  "tags"}):
        errors.append(f"{where}.{key}: unknown key")
    slug = raw.get("slug")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        errors.append(f"{where}.slug: must match {SLUG_RE.pattern}")
    else:
        where = f"{src}: services[{i}] ({slug})"
    host = raw.get("host")
    if not isinstance(host, str) or host not in hosts:
        errors.append(f"{where}.host: unknown host {host!r}")
    unit = raw.get("unit")
    unit = normalize_unit(unit) if isinstance(unit, str) else unit
    if not isinstance(unit, str) or not UNIT_RE.match(unit):
        errors.append(f"{where}.unit: {unit!r} is not a valid systemd unit name")
    name = raw.get("name", slug)
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.append(f"{where}.name: must be a non-empty string of at most 100 characters")
    actions = raw.get("actions", list(DEFAULT_ACTIONS))
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        errors.append(f"{where}.actions: must be a list of strings")
        actions = []
    for action in actions:
        if action not in ACTIONS:
            errors.append(f"{where}.actions: unknown action {action!r} "
                          f"(one of {', '.join(ACTIONS)})")
    allow = raw.get("allow", [])
    if not isinstance(allow, list) or not all(
            isinstance(a, str) and ALLOW_RE.match(a) for a in allow):
        errors.append(f"{where}.allow: must be a list of usernames or role:viewer|operator|admin")
        allow = []
    timer = raw.get("timer")
    if timer is not None and not (isinstance(timer, str) and UNIT_RE.match(timer)
                                  and timer.endswith(".timer")):
        errors.append(f"{where}.timer: {timer!r} is not a valid systemd timer name (NAME.timer)")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and TAG_RE.match(t)
                                             for t in tags):
        errors.append(f"{where}.tags: must be a list of tags matching {TAG_RE.pattern}")
        tags = []
    if len(errors) > before:
        return None
    return ServiceConfig(slug=slug, name=name, host=host, unit=unit, actions=frozenset(actions),
                         allow=frozenset(allow), timer=timer, tags=tuple(dict.fromkeys(tags)))


def parse_config(data: dict[str, Any], source: Path, base: Path,
                 env: dict[str, str] | None = None, *, check_keys: bool = True) -> ReconConfig:
    """Validate an already-parsed TOML document; raise ConfigError listing every problem.

    ``check_keys=False`` leaves key files unchecked (they may not exist yet: `recon keygen`
    runs before there is a key); commands needing one then fail with ``key_unreadable``."""
    env = dict(os.environ) if env is None else env
    errors: list[str] = []
    warnings: list[str] = []
    for key in sorted(set(data) - {"settings", "hosts", "services", "demo", "notify"}):
        errors.append(f"{source}: {key}: unknown top-level key")
    settings = _settings(data.get("settings", {}), env, errors, source)
    raw_hosts = data.get("hosts", {})
    if not isinstance(raw_hosts, dict):
        errors.append(f"{source}: hosts: expected a table of hosts")
        raw_hosts = {}
    hosts: dict[str, HostConfig] = {}
    for name, raw in raw_hosts.items():
        host = _host(name, raw, base, errors, source, warnings, check_keys)
        if host is not None:
            hosts[name] = host
    raw_services = data.get("services", [])
    if not isinstance(raw_services, list):
        errors.append(f"{source}: services: expected an array of tables ([[services]])")
        raw_services = []
    services: dict[str, ServiceConfig] = {}
    for i, raw in enumerate(raw_services):
        svc = _service(i, raw, raw_hosts, errors, source)
        if svc is None:
            continue
        if svc.slug in services:
            errors.append(f"{source}: services[{i}].slug: duplicate slug {svc.slug!r}")
            continue
        services[svc.slug] = svc
        for entry in sorted(svc.allow):
            if entry.startswith("role") and not entry.startswith(
                    ("role:viewer", "role:operator", "role:admin")):
                warnings.append(f"{source}: services[{i}] ({svc.slug}).allow: {entry!r} names "
                                "no role (roles: viewer, operator, admin); it matches nobody")
    from .notify.config import parse_notify
    notify = parse_notify(data.get("notify", {}), env, errors, source, raw_hosts, services)
    if errors:
        raise ConfigError(source, errors)
    return ReconConfig(source=source, hosts=hosts, services=services, settings=settings,
                       demo=bool(data.get("demo", False)), notify=notify,
                       warnings=tuple(warnings))


def load_config(path: Path, env: dict[str, str] | None = None, *,
                check_keys: bool = True) -> ReconConfig:
    """Read and validate a ``recon.toml``; relative key paths resolve against its folder."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(path, [f"{path}: file not found"]) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, [f"{path}: {exc}"]) from None
    return parse_config(data, path, path.parent, env, check_keys=check_keys)
