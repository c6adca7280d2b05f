"""``flask --app wsgi recon ...``: every administration command, registered in one place.

Each feature keeps its commands in a module of its own (accounts, onboarding, the monitor,
terminals, pruning, notifications) as plain click commands; :func:`init_app` is the only
place they join the ``recon`` group.
"""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

from recon.auth import cli as accounts
from recon.hosts.cli import units_command
from recon.jobs.cli import monitor_command, prune_command
from recon.liveconfig.cli import reload_cmd
from recon.notify.cli import cli as notify_commands
from recon.onboarding import cli as onboarding
from recon.terminals.cli import gc_command
from recon.terminals.keys_cli import terminal_key


def init_app(app: Flask) -> None:
    """Add the ``recon`` command group with all its commands to the app's CLI."""
    recon = AppGroup("recon", help="RECON administration.")
    for command in (accounts.users, accounts.tokens, onboarding.keygen_cmd, onboarding.hosts,
                    onboarding.sudoers, onboarding.check_cmd, monitor_command, gc_command,
                    prune_command, notify_commands, onboarding.services, reload_cmd,
                    units_command, terminal_key):
        recon.add_command(command)
    app.cli.add_command(recon)
