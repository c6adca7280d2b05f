"""``flask --app wsgi recon monitor``: run the fleet monitor (with its leader duties) in the
foreground, where no dashboard process runs it."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from recon.jobs.background import start_monitor
from recon.web.context import runtime


@click.command("monitor")
@with_appcontext
@click.option("--seconds", type=float, default=0,
              help="Stop after this long (default: run until interrupted).")
def monitor_command(seconds: float) -> None:
    """Run the fleet monitor in the foreground (when no dashboard process runs it)."""
    app = current_app._get_current_object()
    mon = start_monitor(app)
    click.echo(f"monitor {mon.owner}: {len(runtime(app).config.hosts)} hosts; "
               "supervisors run while this process holds the lease")
    try:
        end = time.monotonic() + seconds if seconds else None
        while end is None or time.monotonic() < end:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        mon.stop()
