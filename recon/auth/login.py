"""One login attempt: claimed, checked and audited -- the sequence the login page runs.

Claim the attempt (:mod:`recon.auth.throttle`, one statement, before anything costly), then
check the password in one of the process's hashing slots (:mod:`recon.auth.passwords`)
while holding no database connection, then audit the outcome. Every refusal is a
:class:`~recon.core.errors.ReconError` the page renders: 429 ``login_throttled`` and 503
``login_busy`` with Retry-After, 401 ``bad_credentials``.
"""

from __future__ import annotations

import secrets

from werkzeug.security import generate_password_hash

from recon.audit import store as audit
from recon.auth import passwords, throttle
from recon.auth.accounts import find_user
from recon.auth.models import User
from recon.core.errors import ApiError
from recon.db.extensions import db

# A wrong password costs the same time as a right one whether or not the user exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8),
                                     method="scrypt")


def attempt(username: str, password: str, address: str | None) -> User:
    """The user whose password ``password`` is, or the refusal, audited."""
    if not throttle.claim(username, address):
        wait = int(throttle.retry_after(username, address)) + 1
        throttle.audit_refused("throttled", username, address)
        raise ApiError(429, "login_throttled",
                       f"Too many failed attempts. Try again in {wait} s.",
                       "Failed logins from this address make the next ones wait longer.",
                       retry_after=wait)
    user = find_user(username)
    user_id, known = (user.id, user.password_hash) if user else (None, _DUMMY_HASH)
    db.session.rollback()  # hold no database connection while hashing
    try:
        good = passwords.verify(known, password) and user_id is not None
    except passwords.LoginBusy:
        throttle.give_back(username, address)
        throttle.audit_refused("login_busy", username, address)
        raise
    if not good:
        audit.record("login", success=False, error="bad_credentials", actor=username or "?")
        raise ApiError(401, "bad_credentials", "Wrong username or password.",
                       "Check both; repeated failures make this address wait.")
    throttle.succeeded(username, address)
    return db.session.get(User, user_id)
