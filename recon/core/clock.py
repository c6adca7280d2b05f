"""Time as RECON stores it: aware UTC datetimes.

SQLite hands ``DateTime(timezone=True)`` values back naive; they were written in UTC, and
:func:`aware` says so again."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """``value`` with its UTC zone put back (SQLite drops it); None stays None."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
