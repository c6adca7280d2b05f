"""Reading ``recon.toml``: every problem of a file is collected, then raised at once."""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from recon.config.declare import read_options, unknown_keys
from recon.config.health import parse_health
from recon.config.models import ConfigError, HostConfig, ReconConfig, ServiceConfig
from recon.config.notify import parse_notify
from recon.config.patterns import HOST_NAME_RE
from recon.config.settings import SETTING_RANGES, Settings
from recon.config.terminal_users import parse_logins, parse_terminals, refuse_recon_login


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
    if not HOST_NAME_RE.fullmatch(name):
        errors.append(f"{where}: host name must match {HOST_NAME_RE.pattern}")
    unknown_keys(HostConfig, raw, where, errors)
    if isinstance(raw.get("host_key"), str):  # pasted from a .pub file, perhaps with its newline
        raw = {**raw, "host_key": raw["host_key"].strip()}
    values = read_options(HostConfig, raw, where, errors, name_types=True,
                          skip=("terminal_users",))
    values["terminal_users"] = parse_logins(raw.get("terminal_users", {}),
                                            f"{where}.terminal_users", errors)
    if "user" in values:
        refuse_recon_login(values["terminal_users"], values["user"], f"{where}.terminal_users",
                           errors)
    terminal_user = values.get("terminal_user")
    if terminal_user is not None and terminal_user == values.get("user"):
        errors.append(f"{where}.terminal_user: must differ from user ({terminal_user}): the "
                      "terminal login must not hold RECON's sudo rules")
    if "key_path" in values:
        values["key_path"] = base / values["key_path"]
        if check_keys:
            _key_problems(values["key_path"], where, errors,
                          warnings if warnings is not None else [])
    if len(errors) > before:
        return None
    return HostConfig(name=name, **values)


def _service(i: int, raw: Any, hosts: dict[str, Any], errors: list[str],
             src: Path) -> ServiceConfig | None:
    where = f"{src}: services[{i}]"
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table")
        return None
    before = len(errors)
    unknown_keys(ServiceConfig, raw, where, errors)
    slug = read_options(ServiceConfig, raw, where, errors, only=("slug",)).get("slug")
    if slug:
        where = f"{where} ({slug})"
    raw = {"name": raw.get("slug"), **raw}
    if isinstance(raw.get("unit"), str):
        raw["unit"] = normalize_unit(raw["unit"])
    values = read_options(ServiceConfig, raw, where, errors, skip=("slug",))
    if values.get("health") is not None:
        values["health"] = parse_health(values["health"], where, errors)
    if "host" in values and values["host"] not in hosts:
        errors.append(f"{where}.host: unknown host {values['host']!r}")
    if len(errors) > before:
        return None
    return ServiceConfig(slug=slug, **values)


def parse_config(data: dict[str, Any], source: Path, base: Path,
                 env: dict[str, str] | None = None, *, check_keys: bool = True) -> ReconConfig:
    """Validate an already-parsed TOML document; raise ConfigError listing every problem.

    ``check_keys=False`` leaves key files unchecked (they may not exist yet: `recon keygen`
    runs before there is a key); commands needing one then fail with ``key_unreadable``."""
    env = dict(os.environ) if env is None else env
    errors: list[str] = []
    warnings: list[str] = []
    for key in sorted(set(data) - {"settings", "hosts", "services", "demo", "notify",
                                   "terminals"}):
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
    fleet_logins = parse_terminals(data.get("terminals", {}), f"{source}: terminals", errors)
    for host in hosts.values():
        refuse_recon_login(fleet_logins, host.user, f"{source}: terminals.users (host "
                           f"{host.name})", errors)
    services = _services(data.get("services", []), raw_hosts, errors, warnings, source)
    notify = parse_notify(data.get("notify", {}), env, errors, source, raw_hosts, services)
    if errors:
        raise ConfigError(source, errors)
    return ReconConfig(source=source, hosts=hosts, services=services, settings=settings,
                       demo=bool(data.get("demo", False)), notify=notify,
                       warnings=tuple(warnings), terminal_users=fleet_logins)


def _services(raw_services: Any, raw_hosts: dict[str, Any], errors: list[str],
              warnings: list[str], source: Path) -> dict[str, ServiceConfig]:
    """The ``[[services]]`` array by slug: each checked, duplicates refused, and an ``allow``
    entry that names no role warned about (it would silently match nobody)."""
    if not isinstance(raw_services, list):
        errors.append(f"{source}: services: expected an array of tables ([[services]])")
        return {}
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
    return services


def load_config(path: Path, env: dict[str, str] | None = None, *,
                check_keys: bool = True) -> ReconConfig:
    """Read and validate a ``recon.toml``; relative key paths resolve against its folder."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, [f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError(path, [f"{path}: {exc}"]) from None
    return parse_text(raw, path, env, check_keys=check_keys)


def parse_text(raw: bytes, path: Path, env: dict[str, str] | None = None, *,
               check_keys: bool = True) -> ReconConfig:
    """Validate the bytes of a ``recon.toml`` that is (or will be) at ``path``: the same
    checks as at start-up, so an edit is refused before it is written."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, [f"{path}: {exc}"]) from None
    config = parse_config(data, path, path.parent, env, check_keys=check_keys)
    return replace(config, revision=revision_of(raw))


def revision_of(raw: bytes) -> str:
    """A config file's revision: the first 16 hex digits of its sha256."""
    return hashlib.sha256(raw).hexdigest()[:16]
