"""``flask --app wsgi recon users|tokens ...``: dashboard accounts and API tokens."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from recon.auth.accounts import (
    AccountError,
    create_token,
    create_user,
    remove_user,
    revoke_token,
)
from recon.auth.accounts import set_password as change_password
from recon.auth.models import ApiToken, User
from recon.core.clock import utc
from recon.db.extensions import db
from recon.web.policy import ROLES

users = AppGroup("users", help="Dashboard accounts.")
tokens = AppGroup("tokens", help="API tokens for scripts.")


@contextmanager
def _account_errors() -> Iterator[None]:
    """A refused account operation ends the command with its message and exit code 1."""
    try:
        yield
    except AccountError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)


def _new_password() -> str:
    return secrets.token_urlsafe(12)


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="operator", show_default=True)
@click.option("--password", help="Prompted for when omitted; --generate makes one.")
@click.option("--generate", is_flag=True, help="Generate a random password and print it once.")
def users_add(username: str, role: str, password: str | None, generate: bool) -> None:
    """Create a user."""
    _with_password(lambda pw: create_user(username, pw, role), password, generate,
                   f"created {username} ({role})")


def _with_password(apply, password: str | None, generate: bool, done: str) -> None:
    """Run ``apply(password)`` with the given, generated or prompted password."""
    if generate:
        password = _new_password()
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _account_errors():
        apply(password)
    click.echo(done)
    if generate:
        click.echo(f"password (shown once): {password}")


@users.command("passwd")
@click.argument("username")
@click.option("--password")
@click.option("--generate", is_flag=True)
def users_passwd(username: str, password: str | None, generate: bool) -> None:
    """Set a user's password (ends their sessions)."""
    _with_password(lambda pw: change_password(username, pw), password, generate,
                   f"password changed for {username}")


@users.command("remove")
@click.argument("username")
def users_remove(username: str) -> None:
    """Delete a user."""
    with _account_errors():
        remove_user(username)
    click.echo(f"removed {username}")


@users.command("list")
def users_list() -> None:
    """List users."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        click.echo(f"{user.username}\t{user.role}\t{utc(user.created_at):%Y-%m-%d}")


@tokens.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
def tokens_add(name: str, role: str) -> None:
    """Create an API token and print it once."""
    with _account_errors():
        _, raw = create_token(name, role)
    click.echo(f"token {name} ({role}), shown once:\n{raw}")


@tokens.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke an API token."""
    with _account_errors():
        revoke_token(name)
    click.echo(f"revoked {name}")


@tokens.command("list")
def tokens_list() -> None:
    """List API tokens (never their values)."""
    for t in db.session.scalars(sa.select(ApiToken).order_by(ApiToken.name)):
        state = "revoked" if t.revoked_at else "active"
        used = f"{utc(t.last_used_at):%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        click.echo(f"{t.name}\t{t.role}\t{state}\tlast used {used}")
