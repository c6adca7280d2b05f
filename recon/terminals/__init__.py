"""Terminals blueprint: browser terminals on hosts (ttyd sessions)."""

from flask import Blueprint

bp = Blueprint("terminals", __name__)

__all__ = ["bp"]
