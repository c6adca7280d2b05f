"""``flask --app wsgi recon terminal-key show|rotate|revoke USER``: the per-user terminal keys
(:mod:`recon.terminals.userkeys`), each change audited like the API's."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from recon.audit import store as audit
from recon.auth.accounts import find_user
from recon.terminals import userkeys
from recon.web.policy import ROLES

terminal_key = AppGroup("terminal-key", help="The terminal keys RECON holds for mapped users.")


def _operator(name: str) -> str:
    user = find_user(name)
    if user is None:
        raise click.ClickException(f"no user {name!r} (flask --app wsgi recon users list)")
    if ROLES.index(user.role) < ROLES.index("operator"):
        raise click.ClickException(f"{name} is a {user.role}: only operators and admins open "
                                   "terminals")
    return user.username


@terminal_key.command("show")
@click.argument("user")
def show(user: str) -> None:
    """Print USER's public key for the mapped login's authorized_keys (made if missing)."""
    line, created = userkeys.ensure(_operator(user))
    if created:
        audit.record("terminal_key.create", success=True, output=f"{user}: {line}")
    click.echo(line)
    click.echo(f"# {'new ' if created else ''}key of {user}: {userkeys.key_path(user)} (0600). "
               "Append the line above to ~LOGIN/.ssh/authorized_keys on each host where "
               f"{user} is mapped to LOGIN.", err=True)


@terminal_key.command("rotate")
@click.argument("user")
def rotate(user: str) -> None:
    """Replace USER's key; print the new public line (install it, remove the old one)."""
    name = _operator(user)
    if userkeys.existing(name) is None:
        raise click.ClickException(f"RECON holds no terminal key for {name}; make one with "
                                   f"`flask --app wsgi recon terminal-key show {name}`")
    line = userkeys.rotate(name)
    audit.record("terminal_key.rotate", success=True, output=f"{name}: {line}")
    click.echo(line)
    click.echo("# the old key no longer works from RECON: replace its line in each mapped "
               "login's authorized_keys with the one above.", err=True)


@terminal_key.command("revoke")
@click.argument("user")
def revoke(user: str) -> None:
    """Delete USER's key (removing or demoting a user below operator does it too)."""
    if not userkeys.revoke(user):
        raise click.ClickException(f"RECON holds no terminal key for {user}")
    audit.record("terminal_key.delete", success=True, output=user)
    click.echo(f"deleted the terminal key of {user}; remove its line from the hosts' "
               "authorized_keys too.")
