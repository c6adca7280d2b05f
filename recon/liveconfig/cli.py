"""``flask --app wsgi recon reload``: check recon.toml and wait until every process runs it."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from recon.config import ConfigError
from recon.config.load import parse_text
from recon.db.extensions import db
from recon.monitor import config_split
from recon.web.context import runtime


@click.command("reload")
@with_appcontext
@click.option("--wait", "wait_seconds", default=10.0, show_default=True,
              help="Seconds to wait for every running process to apply it (0: do not wait).")
def reload_cmd(wait_seconds: float) -> None:
    """Validate recon.toml as a start would; every running process applies a valid file by
    itself within a second (a file watch), and this waits until each reports it."""
    path = Path(runtime().config.source)
    try:
        config = parse_text(path.read_bytes(), path)
    except (ConfigError, OSError) as exc:
        raise click.ClickException(
            f"{exc}\nThe running processes keep their config until the file is fixed.") from None
    click.echo(f"{path}: valid, revision {config.revision} "
               f"({len(config.hosts)} hosts, {len(config.services)} services)")
    deadline = time.monotonic() + wait_seconds
    while True:
        members = config_split.members()
        behind = [m for m in members if m.revision != config.revision]
        if not behind or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
        db.session.rollback()  # a fresh read of the members next time
    if not members:
        click.echo("no RECON server is running on this database; it starts with this file")
    elif behind:
        raise click.ClickException(
            f"{len(behind)} of {len(members)} processes still run another revision: "
            + ", ".join(f"{m.owner} ({m.revision})" for m in behind)
            + "\nSee their log (`config: ... is invalid`) or GET /api/config.")
    else:
        click.echo(f"every running process ({len(members)}) runs revision {config.revision}")
