"""Reading ``recon.toml``: every problem of a file is collected, then raised at once."""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..settings import SETTING_RANGES, Settings
from .models import ConfigError, HostConfig, ReconConfig, ServiceConfig
from .patterns import (
    ACTIONS,
    ADDRESS_RE,
    ALLOW_RE,
    DEFAULT_ACTIONS,
    HOST_NAME_RE,
    PUBKEY_RE,
    REMOTE_PATH_RE,
    SLUG_RE,
    TAG_RE,
    UNIT_RE,
    USER_RE,
)


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
    from ..notify.config import parse_notify
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
