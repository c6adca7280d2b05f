"""Services blueprint: fleet status from the monitor's snapshot, history, live events and
systemctl actions."""

from recon.services import (
    changes,  # noqa: F401  (registers /api/changes on bp)
    events,  # noqa: F401  (registers /api/events on bp)
    strips,  # noqa: F401  (registers /api/history/strips on bp)
    unit,  # noqa: F401  (registers /api/services/<slug>/unit on bp)
)
from recon.services.routes import bp

__all__ = ["bp"]
