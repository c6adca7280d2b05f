"""Adding a host and managing a unit, step by step -- the browser's forms and the CLI's
``recon hosts add`` / ``recon services add|remove`` share these.

Adding a host: the admin's values are validated as recon.toml would be (:func:`candidate`);
the key the host offers is fetched and shown with the command that shows it on the host
(:func:`scan`); only a key the admin confirmed by its fingerprint is trusted, and only if the
host still offers it (:func:`add_host`) -- never accepted on first sight. Then RECON shows the
public key to install and the sudoers drop-in, and ``recon check``'s gates run live
(:func:`check`). Managing a unit: the form's choice becomes a ``[[services]]`` table, shown as
the exact sudoers lines it needs before it is saved (:func:`service_preview`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from recon.audit import store as audit
from recon.config import HostConfig, ReconConfig, normalize_unit
from recon.config.edit import add_host as add_host_change
from recon.config.edit import add_service, preview, remove_service
from recon.core.errors import ApiError, InvalidParameter
from recon.liveconfig.apply import save
from recon.onboarding.steps import Check, check_host, keygen, sudoers_text
from recon.ssh import RemoteError
from recon.ssh.connection import scan_host_key
from recon.ssh.hostkeys import fingerprint, known_hosts_name
from recon.web.context import runtime

HOST_KEYS = ("address", "port", "user", "terminal_user", "key")
SERVICE_KEYS = ("slug", "name", "host", "unit", "actions", "tags", "allow", "timer")
VERIFY_ON_HOST = "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"


def _text(values: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = values.get(key)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameter(key, f"{key} must be a non-empty string",
                               f"Send `{key}` as text.")
    return value.strip()


def default_key(config: ReconConfig) -> str:
    """The dashboard's key as the file names it: the first host's, else ``id_ed25519``
    beside recon.toml (made by :func:`keygen` when missing)."""
    base = Path(config.source).parent
    for host in config.hosts.values():
        try:
            return str(host.key_path.relative_to(base))
        except ValueError:
            return str(host.key_path)
    return "id_ed25519"


def host_values(config: ReconConfig, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ``[hosts.NAME]`` keys a form or the CLI gave (unknown keys refused)."""
    unknown = sorted(set(values) - {"name", *HOST_KEYS, "fingerprint", "base"})
    if unknown:
        raise InvalidParameter(unknown[0], f"unknown field {unknown[0]!r}",
                               "Send name, address, port, user and optionally "
                               "terminal_user and key.")
    name = _text(values, "name")
    port = values.get("port", 22)
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port)
    if not isinstance(port, int) or isinstance(port, bool):
        raise InvalidParameter("port", "port must be a number", "Send port as 1-65535.")
    table = {"address": _text(values, "address"), "port": port, "user": _text(values, "user"),
             "key": _text(values, "key", required=False) or default_key(config),
             "terminal_user": _text(values, "terminal_user", required=False)}
    return name, table


def candidate(app: Flask, values: dict[str, Any]) -> HostConfig:
    """The host as recon.toml would hold it, validated (nothing written): 422
    ``config_invalid`` with every error otherwise."""
    config = runtime(app).config
    name, table = host_values(config, values)
    new = preview(Path(config.source), add_host_change(name, table), check_keys=False)
    return new.hosts[name]


@dataclass(frozen=True)
class Offered:
    """The key a host offers, as the admin must confirm it."""

    host: str
    where: str
    key_type: str
    fingerprint: str
    trusted: bool  # already in known_hosts
    changed: bool  # known_hosts holds another key for this address

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "where": self.where, "key_type": self.key_type,
                "fingerprint": self.fingerprint, "trusted": self.trusted,
                "changed": self.changed, "verify_on_host": VERIFY_ON_HOST}


def scan(app: Flask, host: HostConfig) -> Offered:
    """Fetch the key ``host`` offers (no login, nothing trusted)."""
    keys = runtime(app).executor.host_keys
    try:
        key = scan_host_key(host)
    except RemoteError as exc:
        raise ApiError(502, exc.code, f"{host.address}:{host.port}: {exc.message}",
                       exc.hint) from None
    known = keys.trusted(host.address, host.port)
    same = any(k.asbytes() == key.asbytes() for k in known)
    return Offered(host.name, known_hosts_name(host.address, host.port), key.get_name(),
                   fingerprint(key), same, bool(known) and not same)


def add_host(app: Flask, values: dict[str, Any]) -> dict[str, Any]:
    """Trust the key the admin confirmed (``values["fingerprint"]``) and add the host to
    recon.toml; what to install on the host next."""
    host = candidate(app, values)
    confirmed = values.get("fingerprint")
    if not isinstance(confirmed, str) or not confirmed:
        raise InvalidParameter("fingerprint", "the host key's fingerprint was not confirmed",
                               "Scan the host first and send the fingerprint you verified.")
    offered = scan(app, host)
    if offered.fingerprint != confirmed:
        raise ApiError(409, "host_key_mismatch",
                       f"{offered.where} now offers {offered.fingerprint}, not the key you "
                       f"confirmed ({confirmed})", "Scan again and verify the key on the host "
                       f"({VERIFY_ON_HOST}) before you confirm it.")
    if offered.changed:
        raise ApiError(409, "host_key_changed",
                       f"known_hosts holds another key for {offered.where}",
                       "If the host was reinstalled, verify its new key and run `flask --app "
                       f"wsgi recon hosts trust {host.name} --replace`.")
    rt = runtime(app)
    name, table = host_values(rt.config, values)
    if not offered.trusted:
        keys = rt.executor.host_keys
        keys.add(host.address, host.port, scan_host_key_checked(host, confirmed))
        audit.record("host_trust", success=True, host=name,
                     output=f"{offered.key_type} {offered.fingerprint}")
    edit = save(app, add_host_change(name, table), action="config_host_add", host=name,
                base=values.get("base") if isinstance(values.get("base"), str) else None)
    return {**setup_for(app, edit.config.hosts[name]), "revision": edit.config.revision}


def scan_host_key_checked(host: HostConfig, confirmed: str):
    """The offered key, fetched again and compared with the confirmed fingerprint."""
    key = scan_host_key(host)
    if fingerprint(key) != confirmed:
        raise ApiError(409, "host_key_mismatch", "the host's key changed while adding it",
                       "Scan again and verify the key on the host.")
    return key


def setup_for(app: Flask, host: HostConfig) -> dict[str, Any]:
    """What to install on ``host``: the dashboard's public key and the sudoers drop-in."""
    config = runtime(app).config
    public = keygen(host.key_path)
    return {"host": host.name, "user": host.user, "public_key": public,
            "authorized_keys": f"~{host.user}/.ssh/authorized_keys",
            "sudoers": sudoers_text(config, host) if host.name in config.hosts else "",
            "sudoers_install": "visudo -cf recon.sudoers && install -m 0440 recon.sudoers "
                               "/etc/sudoers.d/recon"}


def check(app: Flask, name: str) -> dict[str, Any]:
    """``recon check``'s gates for one configured host, run now."""
    rt = runtime(app)
    host = rt.config.hosts.get(name)
    if host is None:
        raise ApiError(404, "not_found", f"no host named {name!r}",
                       "GET /api/hosts lists the configured hosts.")
    result = Check()
    check_host(rt.config, rt.executor, rt.executor.host_keys, host, result)
    return {"host": name, "ok": result.ok,
            "gates": [{"ok": ok, "what": what, "fix": fix} for ok, _, what, fix in result.rows]}


def service_table(config: ReconConfig, values: dict[str, Any]) -> dict[str, Any]:
    """The ``[[services]]`` table of a form or the CLI (unknown keys refused; slug and
    name derived from the unit when not given)."""
    unknown = sorted(set(values) - {*SERVICE_KEYS, "base"})
    if unknown:
        raise InvalidParameter(unknown[0], f"unknown field {unknown[0]!r}",
                               "Send host, unit and optionally " + ", ".join(SERVICE_KEYS))
    host, unit = _text(values, "host"), _text(values, "unit")
    stem = normalize_unit(unit).rsplit(".", 1)[0]
    slug = _text(values, "slug", required=False) or f"{host}-{stem}".lower()
    table: dict[str, Any] = {"slug": slug,
                             "name": _text(values, "name", required=False) or stem,
                             "host": host, "unit": normalize_unit(unit)}
    for key in ("actions", "tags", "allow"):
        if values.get(key) is not None:
            items = values[key]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise InvalidParameter(key, f"{key} must be a list of strings",
                                       f"Send `{key}` as a JSON list.")
            table[key] = items
    if values.get("timer"):
        table["timer"] = _text(values, "timer")
    return table


def service_preview(app: Flask, values: dict[str, Any]) -> dict[str, Any]:
    """The service a choice would make and the exact sudoers lines it needs (not saved)."""
    config = runtime(app).config
    table = service_table(config, values)
    new = preview(Path(config.source), add_service(table),
                  check_keys=not app.config.get("RECON_DEFER_KEY_CHECK"))
    return service_preview_of(new, table)


def add_managed(app: Flask, values: dict[str, Any]) -> dict[str, Any]:
    """Save the service (validated, audited, applied at once)."""
    config = runtime(app).config
    table = service_table(config, values)
    base = values.get("base") if isinstance(values.get("base"), str) else None
    edit = save(app, add_service(table), action="config_service_add", base=base,
                host=table["host"], service=table["slug"])
    return {**service_preview_of(edit.config, table), "revision": edit.config.revision}


def service_preview_of(config: ReconConfig, table: dict[str, Any]) -> dict[str, Any]:
    """The service table and the sudoers rules (comments left out) it needs in ``config``."""
    host = config.hosts[table["host"]]
    lines = sudoers_text(config, host, [table["slug"]]).splitlines()
    return {"service": table,
            "sudoers": [line for line in lines if not line.startswith(("#", "Defaults"))]}


def remove_managed(app: Flask, slug: str, base: str | None = None) -> dict[str, Any]:
    """Remove the service from recon.toml (its history stays)."""
    config = runtime(app).config
    svc = config.services.get(slug)
    edit = save(app, remove_service(slug), action="config_service_remove", base=base,
                host=svc.host if svc else None, service=slug)
    return {"removed": slug, "revision": edit.config.revision}
