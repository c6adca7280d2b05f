"""Who may do what to a service: the one place the permission rule lives (routes and pages
ask it; they never decide themselves)."""

from __future__ import annotations

from ..config import ADMIN_ACTIONS, ServiceConfig
from . import Principal

READ_ACTIONS = ("status", "logs")


def may_act(user: Principal, service: ServiceConfig, action: str | None = None) -> bool:
    """Operators may act unless the service names who may; admins always may; only admins
    may mask or unmask (``action``)."""
    if user.can("admin"):
        return True
    if not user.can("operator") or action in ADMIN_ACTIONS:
        return False
    return not service.allow or user.username in service.allow or (
        f"role:{user.role}" in service.allow)
