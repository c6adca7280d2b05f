"""Who is asking and what they may do: the caller (:class:`Principal`), the ordered roles
(viewer < operator < admin), the role a view needs (:func:`require_role`) and the one
permission rule for services (:func:`may_act`). Routes and pages ask here; they never decide
themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import g

from recon.config import ADMIN_ACTIONS, ServiceConfig
from recon.core.errors import ReconError

ROLES = ("viewer", "operator", "admin")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user, or an API token acting with its role."""

    username: str
    role: str
    via: str = "session"  # "session" | "token" | "proxy"

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def current_user() -> Principal:
    """The caller of this request."""
    user = getattr(g, "principal", None)
    return user if user is not None else Principal("anonymous", "viewer", "none")


def require_role(role: str) -> Callable[[F], F]:
    """Refuse the view with 403 unless the caller has at least ``role``."""
    if role not in ROLES:
        raise ValueError(role)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user().can(role):
                raise ReconError(f"this needs the {role} role", status=403, code="forbidden",
                                 hint="Ask an admin for a role that allows it.")
            return view(*args, **kwargs)
        view_with_role = wrapper
        view_with_role.required_role = role  # type: ignore[attr-defined]
        return view_with_role  # type: ignore[return-value]
    return decorator


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
