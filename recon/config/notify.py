"""``[notify.NAME]`` tables of ``recon.toml``: notification channels, validated like the rest.

Three channel types: ``webhook`` (generic JSON, optional HMAC-SHA256 signature), ``slack``
(a Slack/Mattermost incoming webhook, ``{"text": ...}``) and ``email`` (an SMTP relay with
STARTTLS and login). Secrets (URLs, the HMAC secret, the SMTP password) may come from the
environment (``url_env = "RECON_SLACK_URL"``) and are never shown: the dataclass fields that
hold them are left out of ``repr`` and the API lists channels without them.

Each key is declared once (:func:`recon.config.declare.option`) on the table of keys it belongs to:
:class:`ChannelKeys` (every channel), :class:`UrlKeys`, :class:`SignatureKeys` and
:class:`SmtpKeys`; :data:`TABLES` says which tables each type has and :class:`ChannelConfig`
holds them all. :func:`parse_notify` checks a channel against those declarations and the
README's table (:mod:`recon.config.docs`) is made from them; only the rules between keys are
written out here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recon.config.declare import REQUIRED, declared, option, read_options
from recon.config.patterns import ADDRESS_RE

EVENTS = ("unit_failed", "unit_crash_looping", "unit_unhealthy", "unit_recovered",
          "host_unreachable", "host_back", "action_failed")
TYPES = ("webhook", "slack", "email")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
SMTP_SECURITY = ("starttls", "tls", "none")

# The messages channels have always had (unlike host keys: "expected a number", not "number").
_STRING = "expected a string"
_NAMES = "expected a list of strings"
_NUMBER = "expected a number"
_RANGE = "{value!r} is out of range ({low:g} to {high:g})"
_ENV = "must name an environment variable"


@dataclass(frozen=True)
class ChannelKeys:
    """The keys of every channel."""

    name: str  # the table's name, notify.NAME
    type: str = option(REQUIRED, "what the channel sends: JSON to a `webhook`, a `slack` "
                       "(or Mattermost) message, or an `email`", choices=TYPES,
                       problem="unknown channel type {value!r} (one of {choices})")
    events: frozenset[str] = option(
        frozenset(EVENTS), "the events the channel is told about", choices=EVENTS,
        problem=_NAMES, item_problem="unknown event {value!r} (one of {choices})",
        shown_default="all seven")
    services: frozenset[str] = option(
        frozenset(), "the services (slugs) the channel hears about; it cannot pick them by tag",
        problem=_NAMES, shown_default="every service")
    hosts: frozenset[str] = option(frozenset(), "the hosts the channel hears about",
                                   problem=_NAMES, shown_default="every host")
    for_seconds: float = option(60.0, "a host must be down this long before `host_unreachable` "
                                "is sent", low=0, high=86400, problem=_RANGE,
                                kind_problem=_NUMBER)
    group_seconds: float = option(600.0, "the grouping window of a flapping unit: one message "
                                  "per window", low=1, high=86400, problem=_RANGE,
                                  kind_problem=_NUMBER)
    resolve_seconds: float = option(60.0, "a failed unit is resolved once it stayed up this "
                                    "long", low=0, high=86400, problem=_RANGE,
                                    kind_problem=_NUMBER)
    timeout: float = option(10.0, "seconds per delivery attempt", low=0.5, high=120,
                            problem=_RANGE, kind_problem=_NUMBER)
    max_attempts: int = option(8, "attempts before a message is given up",
                               low=1, high=100, problem=_RANGE,
                               kind_problem="expected a whole number")


@dataclass(frozen=True)
class UrlKeys:
    """Where a webhook or Slack channel posts: ``url`` or ``url_env``, one of them."""

    url: str = option("", "where messages are POSTed; a secret, so better `url_env`",
                      repr=False, pattern=URL_RE, problem="must be an http:// or https:// URL",
                      kind_problem=_STRING, shown_default="`url` or `url_env` required")
    url_env: str = option("", "the environment variable that holds `url`", pattern=ENV_RE,
                          problem=_ENV, kind_problem=_STRING)


@dataclass(frozen=True)
class SignatureKeys:
    """A webhook's optional HMAC key."""

    secret: str = option("", "with it each POST carries `X-Recon-Signature: sha256=<hex "
                         "HMAC-SHA256 of the body>`", repr=False, kind_problem=_STRING)
    secret_env: str = option("", "the environment variable that holds `secret`", pattern=ENV_RE,
                             problem=_ENV, kind_problem=_STRING)


@dataclass(frozen=True)
class SmtpKeys:
    """An email channel's relay, login and addresses."""

    smtp_host: str = option("", "the SMTP relay's hostname or IP", required=True,
                            pattern=ADDRESS_RE,
                            problem="missing or not a hostname/IP address", kind_problem=_STRING)
    smtp_port: int = option(587, "the relay's port", low=1, high=65535, problem="must be 1-65535")
    security: str = option("starttls", "`starttls` (upgrades the connection), `tls` (SMTPS) "
                           "or `none` (plain text: only without a login)", choices=SMTP_SECURITY,
                           problem="{value!r}: one of {choices}", kind_problem=_STRING)
    username: str = option("", "the relay login (none if unset)", kind_problem=_STRING)
    password: str = option("", "the login's password, needed with `username`; a secret, so "
                           "better `password_env`", repr=False, kind_problem=_STRING)
    password_env: str = option("", "the environment variable that holds `password`",
                               pattern=ENV_RE, problem=_ENV, kind_problem=_STRING)
    sender: str = option("", "the sender address", key="from", required=True, pattern=EMAIL_RE,
                         problem="missing or not an email address", kind_problem=_STRING)
    to: tuple[str, ...] = option((), "the recipients", required=True, pattern=EMAIL_RE,
                                 problem="must be a non-empty list of email addresses")
    ca_file: str = option("", "a CA bundle for a relay with a private CA (else the system's)",
                          kind_problem=_STRING, allowed="a readable file")


# The tables of keys of each type, in the order their keys are checked and documented.
TABLES: dict[str, tuple[type, ...]] = {
    "webhook": (ChannelKeys, UrlKeys, SignatureKeys),
    "slack": (ChannelKeys, UrlKeys),
    "email": (ChannelKeys, SmtpKeys),
}


@dataclass(frozen=True)
class ChannelConfig(SmtpKeys, SignatureKeys, UrlKeys, ChannelKeys):
    """One validated channel; a key its type lacks keeps its default. Secret fields are
    excluded from ``repr`` (logs, tracebacks)."""

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
        where = f"{src}: notify.{name}"
        values = _channel(name, table, where, env, errors, {"hosts": hosts, "services": services})
        if len(errors) == before and values is not None:
            channels[name] = ChannelConfig(name=name, **values)
    return channels


def _channel(name: str, raw: dict[str, Any], where: str, env: dict[str, str],
             errors: list[str], known: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The checked values of one channel (``None``: its type is unknown)."""
    if not NAME_RE.fullmatch(name):
        errors.append(f"{where}: channel name must match {NAME_RE.pattern}")
    values = read_options(ChannelKeys, raw, where, errors, only=("type",))
    if "type" not in values:
        return None
    kind, tables = values["type"], TABLES[values["type"]]
    keys = [key for table in tables for key, _, _ in declared(table)]
    errors.extend(f"{where}.{key}: unknown key for a {kind} channel"
                  for key in sorted(set(raw) - set(keys)))
    # A secret KEY may be given as KEY_env instead; which of the two was given decides what is
    # checked, so the pairs are read apart from the rest.
    secrets = [key.removesuffix("_env") for key in keys if key.endswith("_env")]
    pairs = {*secrets, *(f"{key}_env" for key in secrets)}
    for table in tables:
        values.update(read_options(table, raw, where, errors, skip=("type", *pairs)))
    for key in ("services", "hosts"):
        if values.get(key):  # a list of strings: do they name configured ones?
            errors.extend(f"{where}.{key}: unknown {key.removesuffix('s')} {v!r}"
                          for v in raw[key] if v not in known[key])
    for key in secrets:
        # The URL is what a channel is for; a password only goes with a login.
        required = key == "url" or key == "password" and bool(values.get("username"))
        given = _secret(key, raw, env, where, errors, required=required)
        values.update(read_options(ChannelConfig, given, where, errors,
                                   only=(key, f"{key}_env")))
    if kind == "email":
        _login_and_ca(values, where, errors)
    return values


def _secret(key: str, raw: dict[str, Any], env: dict[str, str], where: str, errors: list[str],
            *, required: bool) -> dict[str, Any]:
    """``key`` as given: in the file, or in the environment variable ``key_env`` names (one of
    them). The variable's value stands in for ``key`` so that it is checked the same way."""
    env_key = f"{key}_env"
    if key in raw and env_key in raw:
        errors.append(f"{where}.{key}: give {key} or {env_key}, not both")
        return {}
    if env_key in raw:
        var = read_options(ChannelConfig, raw, where, errors, only=(env_key,)).get(env_key)
        value = env.get(var, "") if var else ""
        if var and not value:
            errors.append(f"{where}.{env_key}: environment variable {var} is not set")
        return {env_key: var, key: value} if value else {}
    value = raw.get(key, "")
    if required and not (isinstance(value, str) and value):
        errors.append(f"{where}.{key}: missing (or set {env_key} to an environment variable's "
                      "name)")
    # Empty is not given: "missing" says it, the URL pattern need not refuse it a second time.
    return {} if value == "" else {key: value}


def _login_and_ca(values: dict[str, Any], where: str, errors: list[str]) -> None:
    username, password = values.get("username", ""), values.get("password", "")
    if password and not username:
        errors.append(f"{where}.username: missing (a password was given)")
    if username and values.get("security") == "none":
        errors.append(f"{where}.security: \"none\" would send the password in clear; use "
                      "starttls or tls")
    ca_file = values.get("ca_file", "")
    if ca_file and not Path(ca_file).is_file():
        errors.append(f"{where}.ca_file: cannot read {ca_file}")
