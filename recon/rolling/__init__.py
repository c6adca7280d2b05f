"""Rolling actions: one action across many services, one host at a time (``/api/actions``)."""

from . import models  # noqa: F401  (registers the tables)
from .routes import bp

__all__ = ["bp"]
