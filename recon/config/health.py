"""``[services.health]``: a service's health check, declared like every other key.

A check is one of three kinds, each run *on the service's host* by the monitor
(:mod:`recon.monitor.healthcheck`), so ``127.0.0.1`` is the host's own loopback:

- ``http``: GET ``url`` (http or https); passes on a status in ``expect_status`` (default any
  2xx or 3xx) and, with ``body``, when the response's first 64 KiB contain that plain text;
  ``tls_verify = false`` accepts any certificate (a self-signed one on loopback);
- ``tcp``: a TCP connect to ``address`` (``HOST:PORT``);
- ``command``: ``command``, a fixed argv list (absolute program path), passes on exit 0.

``interval``, ``timeout``, ``fail_after`` and ``recover_after`` apply to every kind. Every value
ends up in a remote command line, so each is held to a strict pattern; nothing of a check ever
comes from a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from recon.config.declare import REQUIRED, option, read_options, unknown_keys

KINDS = ("http", "tcp", "command")
# Host part: a DNS name, an IPv4 literal or a bracketed IPv6 literal; never starting with "-".
_HOST = r"(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\])"
# The URL's path and query: RFC 3986's unreserved characters, "%", "/", "?", ":", "@" and the
# sub-delims but quotes, "$" and parentheses -- no spaces, backslashes, angle brackets or
# fragments either: nothing a shell (or a reader) could take for more than a URL.
_PATH = r"(?:/[A-Za-z0-9._~!&*+,;=:@%/?-]*)?"
URL_RE = re.compile(r"^https?://" + _HOST + r"(?::[0-9]{1,5})?" + _PATH + "$")
TCP_RE = re.compile(r"^" + _HOST + r":[0-9]{1,5}$")
# A list of codes and ranges: "200", "200-299", "200,204,301-302".
STATUS_RE = re.compile(r"^[1-5][0-9]{2}(?:-[1-5][0-9]{2})?(?:,[1-5][0-9]{2}(?:-[1-5][0-9]{2})?)*$")
# Plain text, one line, no control characters.
BODY_RE = re.compile(r"^[^\x00-\x1f\x7f]{0,200}$")
ARG_RE = re.compile(r"^[^\x00-\x1f\x7f]{0,500}$")
PROGRAM_RE = re.compile(r"^/[A-Za-z0-9._+/-]{1,254}$")
# Which keys belong to which kind (the others are refused for it, not silently ignored).
KIND_KEYS = {"http": ("url", "expect_status", "body", "tls_verify"), "tcp": ("address",),
             "command": ("command",)}
REQUIRED_KEY = {"http": "url", "tcp": "address", "command": "command"}


@dataclass(frozen=True)
class HealthCheck:
    """One service's health check (``[services.health]`` after its ``[[services]]``)."""

    kind: str = option(REQUIRED, "`http` (GET a URL), `tcp` (connect to HOST:PORT) or "
                       "`command` (a fixed program with arguments; exit 0 passes); run on "
                       "the service's host, so `127.0.0.1` is the host's own loopback",
                       choices=KINDS, problem="must be one of {choices}")
    url: str = option("", "http: the URL to GET (http:// or https://, no fragment)",
                      pattern=URL_RE, problem="must be an http:// or https:// URL without "
                      "spaces, quotes or a fragment", example="http://127.0.0.1:8080/health")
    expect_status: str = option(
        "200-399", "http: the statuses that pass, codes and ranges (`200,204,301-302`)",
        pattern=STATUS_RE, problem="must list status codes or ranges such as 200-299,304")
    body: str = option("", "http: plain text the response's first 64 KiB must contain "
                       "(no pattern; empty: any body)", pattern=BODY_RE,
                       problem="must be one line of at most 200 characters")
    tls_verify: bool = option(True, "http: check the https certificate and name (`false` "
                              "for a self-signed certificate)")
    address: str = option("", "tcp: `HOST:PORT` to connect to", pattern=TCP_RE,
                          problem="must be HOST:PORT (a name, IPv4 or [IPv6] and a port)",
                          example="127.0.0.1:5432")
    command: tuple[str, ...] = option(
        (), "command: the argv list run as the login user (no shell, no sudo); the first item "
        "an absolute path", pattern=ARG_RE, problem="must be a list of strings without "
        "control characters", example=["/usr/bin/test", "-S", "/run/app.sock"])
    interval: float = option(30.0, "seconds between checks", low=5, high=86400)
    timeout: float = option(5.0, "seconds a check may take (less than `interval`)",
                            low=0.5, high=120)
    fail_after: int = option(3, "failed checks in a row that make the service's health "
                             "`failing`", low=1, high=100)
    recover_after: int = option(2, "passed checks in a row that make it `passing` again",
                                low=1, high=100)

    def status_ranges(self) -> list[tuple[int, int]]:
        """``expect_status`` as inclusive (low, high) ranges."""
        ranges = []
        for part in self.expect_status.split(","):
            low, _, high = part.partition("-")
            ranges.append((int(low), int(high or low)))
        return ranges

    def target(self) -> str:
        """What the check looks at, in a few words (the row's tooltip, messages)."""
        if self.kind == "http":
            return self.url
        if self.kind == "tcp":
            return f"tcp {self.address}"
        return " ".join(self.command)


def parse_health(raw: Any, where: str, errors: list[str]) -> HealthCheck | None:
    """A ``[services.health]`` table checked against the declarations and the rules between
    keys (the kind's own key required, other kinds' keys refused); None and ``errors``
    extended when it is refused."""
    where = f"{where}.health"
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table ([services.health])")
        return None
    before = len(errors)
    unknown_keys(HealthCheck, raw, where, errors)
    values = read_options(HealthCheck, raw, where, errors, name_types=True)
    _kind_keys(raw, values, where, errors)
    for low, high in _ranges(values.get("expect_status", "")):
        if low > high:
            errors.append(f"{where}.expect_status: {low}-{high} is an empty range")
    if _port(values.get("address", "")) not in range(1, 65536):
        errors.append(f"{where}.address: the port must be 1-65535")
    if _port(_authority(values.get("url", ""))) not in range(1, 65536):
        errors.append(f"{where}.url: the port must be 1-65535")
    command = values.get("command", ())
    if command and not PROGRAM_RE.fullmatch(command[0]):
        errors.append(f"{where}.command: the first item must be an absolute program path "
                      "(no shell runs it)")
    if "timeout" in values and "interval" in values and values["timeout"] >= values["interval"]:
        errors.append(f"{where}.timeout: must be less than interval ({values['interval']:g})")
    if len(errors) > before:
        return None
    return HealthCheck(**values)


def _kind_keys(raw: dict[str, Any], values: dict[str, Any], where: str,
               errors: list[str]) -> None:
    """The kind's own key is required (and not empty); another kind's keys are refused."""
    kind = values.get("kind")
    if kind not in KIND_KEYS:
        return
    foreign = sorted(k for other, keys in KIND_KEYS.items() if other != kind
                     for k in keys if k in raw)
    errors.extend(f"{where}.{k}: not a key of a {kind} check" for k in foreign)
    need = REQUIRED_KEY[kind]
    if need not in raw:
        errors.append(f"{where}.{need}: required for a {kind} check")
    elif need in values and not values[need]:
        errors.append(f"{where}.{need}: must not be empty for a {kind} check")


def _ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        out.append((int(low), int(high or low)))
    return out


def _authority(url: str) -> str:
    """``host:port`` of an http(s) URL (the scheme's port when none is given), "" if none."""
    if not url:
        return ""
    scheme, _, rest = url.partition("://")
    hostport = rest.split("/", 1)[0]
    if re.search(r":[0-9]+$", hostport):
        return hostport
    return f"{hostport}:{443 if scheme == 'https' else 80}"


def _port(address: str) -> int:
    """The port of ``HOST:PORT`` (1 when there is no address: nothing to refuse)."""
    if not address:
        return 1
    return int(address.rsplit(":", 1)[1])
