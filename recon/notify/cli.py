"""``flask --app wsgi recon notify test NAME`` and ``recon notify list``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from recon.audit import store as audit
from recon.notify.status import channel_status, send_test
from recon.web.context import runtime

cli = AppGroup("notify", help="Notification channels.")


@cli.command("test")
@click.argument("name")
def test_command(name: str) -> None:
    """Send a test notification through channel NAME."""
    channel = runtime().config.notify.get(name)
    if channel is None:
        click.echo(f"error: no notification channel named {name!r} "
                   f"(configured: {', '.join(runtime().config.notify) or 'none'})", err=True)
        sys.exit(1)
    ok, text, code = send_test(channel, audit.current_actor())
    if not ok:
        click.echo(f"error: {code}: {text}", err=True)
        sys.exit(1)
    click.echo(f"sent through {name}: {text}")


@cli.command("list")
def list_command() -> None:
    """List the channels and how their deliveries go."""
    for ch in runtime().config.notify.values():
        s = channel_status(ch)
        click.echo(f"{ch.name}\t{ch.type}\tsent {s['sent']}\tpending {s['pending']}\t"
                   f"{'FAILING: ' + (s['last_error'] or '') if s['failing'] else 'ok'}")
