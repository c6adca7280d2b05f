"""``flask --app wsgi recon monitor``: run the fleet monitor in the foreground."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from ..monitor.runner import start_background


@click.command("monitor")
@with_appcontext
@click.option("--seconds", type=float, default=0,
              help="Stop after this long (default: run until interrupted).")
def monitor_command(seconds: float) -> None:
    """Run the fleet monitor in the foreground (when no dashboard process runs it)."""
    app = current_app._get_current_object()
    mon = start_background(app)
    click.echo(f"monitor {mon.owner}: {len(app.extensions['recon'].config.hosts)} hosts; "
               "supervisors run while this process holds the lease")
    try:
        end = time.monotonic() + seconds if seconds else None
        while end is None or time.monotonic() < end:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        mon.stop()
