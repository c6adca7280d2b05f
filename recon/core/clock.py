"""Time as RECON stores it: epoch seconds (UTC) as floats, like ``time.time()``.

Every time column holds them, so rows compare with each other and with the clock across
processes without conversions. Datetimes appear only at the edges: ISO 8601 in JSON
(:func:`iso`), a parsed ``?since=`` (:func:`epoch`), a formatted CLI line (:func:`utc`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    """Now, in epoch seconds."""
    return time.time()


def utc(ts: float) -> datetime:
    """Epoch seconds as an aware UTC datetime (to format)."""
    return datetime.fromtimestamp(ts, UTC)


def iso(ts: float | None, *, offset: bool = True) -> str | None:
    """Epoch seconds as ISO 8601 in UTC to the microsecond; None stays None.

    ``offset=False`` leaves the ``+00:00`` off: the format the audit trail, users and tokens
    have always had in the API (SQLite gave their datetimes back without a zone)."""
    if ts is None:
        return None
    when = utc(ts)
    return (when if offset else when.replace(tzinfo=None)).isoformat()


def epoch(when: datetime) -> float:
    """A datetime as epoch seconds; a naive one is taken as UTC."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
