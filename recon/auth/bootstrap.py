"""First start: with no users at all, create ``admin`` with a random password, shown once."""

from __future__ import annotations

import secrets

from flask import Flask

from recon.auth.accounts import create_user, user_count


def ensure_admin(app: Flask) -> str | None:
    """Create the first admin if there are no users; return its password (else None)."""
    with app.app_context():
        if user_count():
            return None
        password = secrets.token_urlsafe(12)
        create_user("admin", password, "admin")
        return password
