"""The background work's commands: ``flask --app wsgi recon monitor`` runs the fleet monitor
(with its leader duties) in the foreground, where no dashboard process runs it; ``recon
prune`` runs one retention pass."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from recon.jobs.background import start_monitor
from recon.jobs.retention import run_prune
from recon.web.context import runtime


@click.command("monitor")
@with_appcontext
@click.option("--seconds", type=float, default=0,
              help="Stop after this long (default: run until interrupted).")
def monitor_command(seconds: float) -> None:
    """Run the fleet monitor in the foreground (when no dashboard process runs it)."""
    app = current_app._get_current_object()
    mon = start_monitor(app)
    click.echo(f"monitor {mon.owner}: {len(runtime(app).config.hosts)} hosts, shared with "
               "every other running monitor (each watches the hosts it holds leases on)")
    try:
        end = time.monotonic() + seconds if seconds else None
        while end is None or time.monotonic() < end:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        mon.stop()


@click.command("prune")
@with_appcontext
def prune_command() -> None:
    """Delete login failures, audit rows, finished rolling actions, ended sessions, closed
    terminals and delivered notifications past retention."""
    done = run_prune()
    click.echo("pruned " + ", ".join(f"{n} {kind}" for kind, n in sorted(done.items())))
