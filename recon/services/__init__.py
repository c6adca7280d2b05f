"""Services blueprint: fleet status and systemctl actions."""

from .routes import bp

__all__ = ["bp"]
