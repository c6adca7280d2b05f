"""Who is asking: users, roles, API tokens.

``recon.web.policy`` holds the caller, the roles and the permission rule; ``accounts`` the
users, sessions and tokens; ``guard`` the per-request check (login, token, CSRF); ``login``
one login attempt, with ``throttle`` (failure counters, refused attempts in the audit) and
``passwords`` (hashing, bounded per process); ``routes`` the login and admin pages.
"""

from __future__ import annotations

from flask import Flask

from recon.auth import guard, models, routes  # noqa: F401  (models registers the tables)


def init_app(app: Flask) -> None:
    """Install the request guard and the login/admin routes."""
    guard.init_app(app)
    app.register_blueprint(routes.bp)
