"""Query-string values every list route reads the same way; a bad one is a 400 naming it."""

from __future__ import annotations

from datetime import datetime

from flask import request

from recon.core.clock import epoch
from recon.core.errors import InvalidParameter


def int_arg(name: str, default: int | None, lo: int, hi: int) -> int | None:
    """``?name=N`` as an integer in ``lo..hi`` (``default`` when absent)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise InvalidParameter(name, f"{name} must be an integer {lo}-{hi}",
                               f"Pass e.g. ?{name}={default or lo}.")
    return int(raw)


def time_arg(name: str) -> float | None:
    """``?name=`` as an ISO 8601 time, in epoch seconds (None when absent). Its date and
    time of day are read as UTC and a UTC offset is not applied, as when SQLite compared
    them with the stored text."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return epoch(datetime.fromisoformat(raw).replace(tzinfo=None))
    except ValueError:
        raise InvalidParameter(name, f"{name} must be an ISO 8601 time",
                               f"Pass e.g. ?{name}=2026-11-22T10:00:00Z.") from None
