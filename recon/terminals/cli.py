"""``flask --app wsgi recon gc``: one terminal cleanup pass by hand."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from recon.terminals import gc


@click.command("gc")
@with_appcontext
def gc_command() -> None:
    """Close expired, idle, dead and orphaned terminal sessions (one pass)."""
    closed = gc.run_pass()
    total = sum(closed.values())
    detail = ", ".join(f"{n} {reason}" for reason, n in sorted(closed.items()))
    click.echo(f"closed {total} terminal session(s)" + (f": {detail}" if detail else ""))
