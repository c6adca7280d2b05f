"""Logs blueprint: journal reads for a service."""

from .routes import bp

__all__ = ["bp"]
