"""Notifications on state changes (issue 15): channels from ``[notify.NAME]`` in recon.toml,
fed by the monitor's events in the process that holds the monitor's lease.

Kept import-light: :mod:`recon.config` imports :mod:`.config` from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from .worker import Notifier


def start(app: Flask, owner: str) -> Notifier | None:
    """Start the notifier threads (the monitor calls this when it becomes the lease holder);
    None when no channel is configured."""
    from .worker import Notifier

    if not app.extensions["recon"].config.notify:
        return None
    return Notifier(app, owner).start()
