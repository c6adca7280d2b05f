"""``flask --app wsgi recon keygen|hosts trust|sudoers|check``: the runbook's onboarding
steps (the work itself lives in :mod:`recon.onboarding.steps`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from recon.audit import store as audit
from recon.config import ReconConfig
from recon.onboarding.steps import Check, check_host, format_rows, keygen, sudoers_text
from recon.ssh import Executor, RemoteError
from recon.ssh.connection import scan_host_key
from recon.ssh.hostkeys import fingerprint, known_hosts_name
from recon.web.context import runtime


def _config() -> ReconConfig:
    return runtime().config


def _executor() -> Executor:
    return runtime().executor


@click.command("keygen")
@with_appcontext
@click.option("--path", "key_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the key (default: instance/id_ed25519).")
def keygen_cmd(key_path: Path | None) -> None:
    """Create the dashboard's SSH key (instance/id_ed25519) and print its public line."""
    path = key_path or Path(current_app.instance_path) / "id_ed25519"
    try:
        click.echo(keygen(path))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot create or read {path}: {exc}") from None
    click.echo(f"# private key: {path} (0600). Append the line above to the target user's "
               "~/.ssh/authorized_keys.", err=True)

hosts = AppGroup("hosts", help="Host keys.")

@hosts.command("trust")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Trust without asking.")
@click.option("--replace", is_flag=True, help="Replace a key that changed.")
def trust(name: str, yes: bool, replace: bool) -> None:
    """Fetch a host's key, show its fingerprint, and trust it after confirmation."""
    config = _config()
    host = config.hosts.get(name)
    if host is None:
        raise click.ClickException(f"no host {name!r} in {config.source}")
    keys = _executor().host_keys
    try:
        key = scan_host_key(host)
    except RemoteError as exc:
        raise click.ClickException(exc.message) from None
    where = known_hosts_name(host.address, host.port)
    click.echo(f"{where} offers {key.get_name()} {fingerprint(key)}")
    click.echo("Verify on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub")
    trusted = keys.trusted(host.address, host.port)
    if any(k.asbytes() == key.asbytes() for k in trusted):
        click.echo("already trusted")
        return
    if trusted and not replace:
        raise click.ClickException(
            "the host's key CHANGED from the trusted one; if you verified the new key on "
            "the host, run again with --replace")
    if not yes and not click.confirm("Trust this key?"):
        raise click.ClickException("not trusted")
    keys.add(host.address, host.port, key, replace=bool(trusted))
    audit.record("host_trust" if not trusted else "host_key_replace", success=True,
                 host=name, output=f"{key.get_name()} {fingerprint(key)}")
    click.echo(f"trusted; written to {keys.path}")

@click.command("sudoers")
@with_appcontext
@click.argument("target")
@click.option("--check", "validate", is_flag=True, help="Validate with visudo -cf.")
def sudoers(target: str, validate: bool) -> None:
    """Print the scoped sudoers drop-in for a service (SLUG) or a whole HOST."""
    config = _config()
    if target in config.services:
        svc = config.services[target]
        text = sudoers_text(config, config.hosts[svc.host], [target])
    elif target in config.hosts:
        text = sudoers_text(config, config.hosts[target])
    else:
        raise click.ClickException(f"{target!r} is neither a service slug nor a host")
    click.echo(text, nl=False)
    if validate:
        visudo = shutil.which("visudo")
        if visudo is None:
            click.echo("# visudo not found here; not validated", err=True)
            return
        with tempfile.NamedTemporaryFile("w", suffix=".sudoers") as fh:
            fh.write(text)
            fh.flush()
            # Local validation only (fixed argv); remote commands never use subprocess.
            out = subprocess.run([visudo, "-cf", fh.name],  # noqa: S603
                                 capture_output=True, text=True, timeout=30)
        click.echo(f"# visudo: {(out.stdout + out.stderr).strip()}", err=True)
        if out.returncode != 0:
            sys.exit(1)

@click.command("check")
@with_appcontext
@click.argument("host", required=False)
def check_cmd(host: str | None) -> None:
    """Run the runbook's gates for each host (or one) and print a table."""
    config = _config()
    names = [host] if host else list(config.hosts)
    if host and host not in config.hosts:
        raise click.ClickException(f"no host {host!r}")
    result = Check()
    for warning in config.warnings:
        click.echo(f"warn  {warning}")
    for name in names:
        check_host(config, _executor(), _executor().host_keys, config.hosts[name], result)
    for line in format_rows(result):
        click.echo(line)
    if not result.ok:
        sys.exit(1)


def _adding_call(fn, *args):
    """Run an adding step; a refusal becomes the CLI's error with its hint and errors."""
    from recon.core.errors import ReconError
    try:
        return fn(current_app._get_current_object(), *args)
    except ReconError as exc:
        errors = exc.extra.get("errors") or []
        raise click.ClickException("\n".join([exc.message, *(f"  - {e}" for e in errors),
                                              exc.hint])) from None


@hosts.command("add")
@with_appcontext
@click.argument("name")
@click.option("--address", required=True, help="Hostname or IP.")
@click.option("--port", default=22, show_default=True, type=int)
@click.option("--user", required=True, help="The login that holds RECON's sudo rules.")
@click.option("--terminal-user", default=None, help="A second login for browser terminals.")
@click.option("--key", default=None, help="The dashboard's key (default: the other hosts').")
@click.option("--fingerprint", default=None,
              help="The host key's SHA256 fingerprint, verified on the host (asked if not "
                   "given).")
def add_host_cmd(name: str, address: str, port: int, user: str, terminal_user: str | None,
                 key: str | None, fingerprint: str | None) -> None:
    """Add a host to recon.toml: show its key, trust it once confirmed, print what to
    install on it (the dashboard's public key, the sudoers drop-in)."""
    from recon.onboarding import adding
    values = {"name": name, "address": address, "port": port, "user": user,
              "terminal_user": terminal_user, "key": key}
    host = _adding_call(adding.candidate, values)
    offered = _adding_call(adding.scan, host)
    click.echo(f"{offered.where} offers {offered.key_type} {offered.fingerprint}")
    click.echo(f"Verify on the host: {adding.VERIFY_ON_HOST}")
    if fingerprint is None:
        if not click.confirm("Is this the host's key?"):
            raise click.ClickException("not added")
        fingerprint = offered.fingerprint
    done = _adding_call(adding.add_host, {**values, "fingerprint": fingerprint})
    click.echo(f"added host {name} (recon.toml revision {done['revision']})\n")
    click.echo(f"1. Install the dashboard's key in {done['authorized_keys']} on the host:\n"
               f"   {done['public_key']}")
    click.echo(f"2. Install the sudoers drop-in ({done['sudoers_install']}) once services "
               f"are chosen: flask --app wsgi recon sudoers {name}")
    click.echo(f"3. Choose units: flask --app wsgi recon units {name}; then "
               "flask --app wsgi recon services add --host NAME --unit UNIT")
    click.echo(f"4. Check: flask --app wsgi recon check {name}")


services = AppGroup("services", help="Managed services in recon.toml.")


@services.command("add")
@with_appcontext
@click.option("--host", required=True)
@click.option("--unit", required=True)
@click.option("--slug", default=None, help="Default: HOST-UNIT.")
@click.option("--name", default=None, help="Display name (default: the unit).")
@click.option("--action", "actions", multiple=True, help="Repeat for each (default: the "
              "default actions).")
@click.option("--tag", "tags", multiple=True)
@click.option("--allow", multiple=True)
@click.option("--timer", default=None)
def add_service_cmd(host: str, unit: str, slug: str | None, name: str | None,
                    actions: tuple[str, ...], tags: tuple[str, ...], allow: tuple[str, ...],
                    timer: str | None) -> None:
    """Manage a unit: add it to recon.toml and print the sudoers rules it needs."""
    from recon.onboarding import adding
    values = {"host": host, "unit": unit, "slug": slug, "name": name,
              "actions": list(actions) or None, "tags": list(tags) or None,
              "allow": list(allow) or None, "timer": timer}
    done = _adding_call(adding.add_managed, values)
    click.echo(f"added service {done['service']['slug']} "
               f"(recon.toml revision {done['revision']}); its sudoers rules:")
    for line in done["sudoers"]:
        click.echo(f"  {line}")
    click.echo(f"Install them: flask --app wsgi recon sudoers {host}")


@services.command("remove")
@with_appcontext
@click.argument("slug")
def remove_service_cmd(slug: str) -> None:
    """Stop managing a service: remove it from recon.toml."""
    from recon.onboarding import adding
    done = _adding_call(adding.remove_managed, slug)
    click.echo(f"removed service {slug} (recon.toml revision {done['revision']})")
