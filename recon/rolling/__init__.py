"""Rolling actions: one action across many services, one host at a time (``/api/actions``)."""

from recon.rolling import models  # noqa: F401  (registers the tables)
from recon.rolling.routes import bp

__all__ = ["bp"]
