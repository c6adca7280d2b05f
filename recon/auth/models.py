"""Accounts, API tokens, login sessions and login-failure counters (all in SQLite, so every
gunicorn worker sees the same state)."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from recon.core.clock import iso, now
from recon.db.extensions import db

TOKEN_PREFIX = "recon_"


def token_hash(raw: str) -> str:
    """Tokens are random, so a plain SHA-256 is enough to store them (no KDF needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[float] = mapped_column(default=now)  # epoch seconds (core.clock)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def to_dict(self) -> dict:
        return {"username": self.username, "role": self.role,
                "created_at": iso(self.created_at)}


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[float] = mapped_column(default=now)
    last_used_at: Mapped[float | None]
    revoked_at: Mapped[float | None]

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role,
                "created_at": iso(self.created_at),
                "last_used_at": iso(self.last_used_at),
                "revoked": self.revoked_at is not None}


class LoginSession(db.Model):
    """Server-side half of a browser login, so logout really ends it."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[float] = mapped_column(default=now)
    expires_at: Mapped[float]
    revoked_at: Mapped[float | None]


class LoginFailure(db.Model):
    """Consecutive failed logins per ``user:NAME`` and per ``addr:IP``."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[float] = mapped_column(default=now)
