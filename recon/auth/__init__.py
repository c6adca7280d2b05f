"""Who is asking: users, roles, API tokens.

Views use :func:`current_user` for ownership and :func:`require_role` on anything that
changes state or opens a shell. Roles are ordered: viewer < operator < admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import g

from ..problem import ReconError

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


def init_app(app) -> None:
    """Install the request guard and the login/admin routes."""
    from . import guard, routes
    from .models import User  # noqa: F401  (registers the tables)

    guard.init_app(app)
    app.register_blueprint(routes.bp)
