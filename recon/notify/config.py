"""``[notify.NAME]`` tables of ``recon.toml``: notification channels, validated like the rest.

Three channel types: ``webhook`` (generic JSON, optional HMAC-SHA256 signature), ``slack``
(a Slack/Mattermost incoming webhook, ``{"text": ...}``) and ``email`` (an SMTP relay with
STARTTLS and login). Secrets (URLs, the HMAC secret, the SMTP password) may come from the
environment (``url_env = "RECON_SLACK_URL"``) and are never shown: the dataclass fields that
hold them are left out of ``repr`` and the API lists channels without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS = ("unit_failed", "unit_recovered", "host_unreachable", "host_back", "action_failed")
TYPES = ("webhook", "slack", "email")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
SMTP_SECURITY = ("starttls", "tls", "none")

COMMON_KEYS = {"type", "events", "services", "hosts", "for_seconds", "group_seconds",
               "resolve_seconds", "timeout", "max_attempts"}
TYPE_KEYS = {
    "webhook": {"url", "url_env", "secret", "secret_env"},
    "slack": {"url", "url_env"},
    "email": {"smtp_host", "smtp_port", "security", "username", "password", "password_env",
              "from", "to", "ca_file"},
}
# (default, low, high) of the numeric keys
NUMBERS: dict[str, tuple[float, float, float]] = {
    "for_seconds": (60, 0, 86400),
    "group_seconds": (600, 1, 86400),
    "resolve_seconds": (60, 0, 86400),
    "timeout": (10, 0.5, 120),
    "max_attempts": (8, 1, 100),
}


@dataclass(frozen=True)
class ChannelConfig:
    """One validated channel. Secret fields are excluded from ``repr`` (logs, tracebacks)."""

    name: str
    type: str
    events: frozenset[str]
    services: frozenset[str] = frozenset()  # empty: every service
    hosts: frozenset[str] = frozenset()  # empty: every host
    for_seconds: float = 60.0  # host_unreachable only once the host is down this long
    group_seconds: float = 600.0  # flapping: one message per window
    resolve_seconds: float = 60.0  # a unit counts as recovered once up this long
    timeout: float = 10.0
    max_attempts: int = 8
    url: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    smtp_host: str = ""
    smtp_port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    to: tuple[str, ...] = ()
    ca_file: str = ""

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for scrubbing error texts before they are stored or logged."""
        return tuple(s for s in (self.url, self.secret, self.password) if s)

    def wants(self, event: str, *, host: str | None, service: str | None,
              service_host: str | None = None) -> bool:
        """Whether this channel is told about ``event`` for that host/service."""
        if event not in self.events:
            return False
        if self.hosts and (host or service_host) not in self.hosts:
            return False
        if self.services and service is not None and service not in self.services:
            return False
        return True

    def public(self) -> dict[str, Any]:
        """What the API may show: no URL, secret, password or user name."""
        body: dict[str, Any] = {
            "name": self.name, "type": self.type, "events": sorted(self.events),
            "services": sorted(self.services), "hosts": sorted(self.hosts),
            "for_seconds": self.for_seconds, "group_seconds": self.group_seconds,
            "resolve_seconds": self.resolve_seconds, "signed": bool(self.secret)}
        if self.type == "email":
            body.update(recipients=len(self.to), security=self.security)
        return body


class _Reader:
    """Collects a channel's errors, each naming the file and the key."""

    def __init__(self, name: str, raw: dict[str, Any], env: dict[str, str],
                 errors: list[str], src: Path):
        self.where, self.raw, self.env, self.errors = f"{src}: notify.{name}", raw, env, errors

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{self.where}.{key}: {message}")

    def string(self, key: str, default: str = "") -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            self.error(key, "expected a string")
            return default
        return value

    def names(self, key: str, known: dict[str, Any] | tuple[str, ...], what: str) -> frozenset:
        value = self.raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, "expected a list of strings")
            return frozenset()
        for v in value:
            if v not in known:
                self.error(key, f"unknown {what} {v!r}"
                           + (f" (one of {', '.join(known)})" if isinstance(known, tuple) else ""))
        return frozenset(value)

    def number(self, key: str) -> float:
        default, lo, hi = NUMBERS[key]
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(key, "expected a number")
            return default
        if not lo <= value <= hi:
            self.error(key, f"{value!r} is out of range ({lo:g} to {hi:g})")
        return float(value)

    def secret(self, key: str, *, required: bool) -> str:
        """``key`` from the file or ``key_env`` from the environment (one of them)."""
        env_key = f"{key}_env"
        if key in self.raw and env_key in self.raw:
            self.error(key, f"give {key} or {env_key}, not both")
            return ""
        if env_key in self.raw:
            var = self.string(env_key)
            if not ENV_RE.fullmatch(var):
                self.error(env_key, "must name an environment variable")
                return ""
            value = self.env.get(var, "")
            if not value:
                self.error(env_key, f"environment variable {var} is not set")
            return value
        value = self.string(key)
        if required and not value:
            self.error(key, f"missing (or set {env_key} to an environment variable's name)")
        return value


def parse_notify(raw: Any, env: dict[str, str], errors: list[str], src: Path,
                 hosts: dict[str, Any], services: dict[str, Any]) -> dict[str, ChannelConfig]:
    """Validate every ``[notify.NAME]`` table; problems are appended to ``errors``."""
    if not isinstance(raw, dict):
        errors.append(f"{src}: notify: expected tables [notify.NAME]")
        return {}
    channels: dict[str, ChannelConfig] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            errors.append(f"{src}: notify.{name}: expected a table")
            continue
        before = len(errors)
        channel = _channel(name, _Reader(name, table, env, errors, src), hosts, services)
        if len(errors) == before and channel is not None:
            channels[name] = channel
    return channels


def _channel(name: str, r: _Reader, hosts: dict[str, Any],
             services: dict[str, Any]) -> ChannelConfig | None:
    if not NAME_RE.fullmatch(name):
        r.errors.append(f"{r.where}: channel name must match {NAME_RE.pattern}")
    kind = r.raw.get("type")
    if kind not in TYPES:
        r.error("type", f"unknown channel type {kind!r} (one of {', '.join(TYPES)})")
        return None
    for key in sorted(set(r.raw) - COMMON_KEYS - TYPE_KEYS[kind]):
        r.error(key, f"unknown key for a {kind} channel")
    events = r.names("events", EVENTS, "event") if "events" in r.raw else frozenset(EVENTS)
    values: dict[str, Any] = {k: r.number(k) for k in NUMBERS}
    values["max_attempts"] = int(values["max_attempts"])
    values.update(name=name, type=kind, events=events,
                  services=r.names("services", services, "service"),
                  hosts=r.names("hosts", hosts, "host"))
    if kind in ("webhook", "slack"):
        url = r.secret("url", required=True)
        if url and not URL_RE.fullmatch(url):
            r.error("url", "must be an http:// or https:// URL")  # the value is not echoed
        values["url"] = url
        if kind == "webhook":
            values["secret"] = r.secret("secret", required=False)
        return ChannelConfig(**values)
    return _email(r, values)


def _email(r: _Reader, values: dict[str, Any]) -> ChannelConfig:
    host = r.string("smtp_host")
    if not re.fullmatch(r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$", host):
        r.error("smtp_host", "missing or not a hostname/IP address")
    port = r.raw.get("smtp_port", 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        r.error("smtp_port", "must be 1-65535")
        port = 587
    security = r.string("security", "starttls")
    if security not in SMTP_SECURITY:
        r.error("security", f"{security!r}: one of {', '.join(SMTP_SECURITY)}")
    username = r.string("username")
    password = r.secret("password", required=bool(username))
    if password and not username:
        r.error("username", "missing (a password was given)")
    if username and security == "none":
        r.error("security", "\"none\" would send the password in clear; use starttls or tls")
    sender = r.string("from")
    if not EMAIL_RE.fullmatch(sender):
        r.error("from", "missing or not an email address")
    to = r.raw.get("to", [])
    if (not isinstance(to, list) or not to
            or not all(isinstance(a, str) and EMAIL_RE.fullmatch(a) for a in to)):
        r.error("to", "must be a non-empty list of email addresses")
        to = []
    ca_file = r.string("ca_file")
    if ca_file and not Path(ca_file).is_file():
        r.error("ca_file", f"cannot read {ca_file}")
    return ChannelConfig(**values, smtp_host=host, smtp_port=port, security=security,
                         username=username, password=password, sender=sender, to=tuple(to),
                         ca_file=ca_file)
