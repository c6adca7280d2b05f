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
