"""How the notifier words times and a unit's state in its messages."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any


def ago(seconds: float) -> str:
    """A duration in the unit that reads best (s, min, h)."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def clock(epoch: float) -> str:
    """An epoch time as ``HH:MM:SS UTC``."""
    return time.strftime("%H:%M:%S UTC", time.gmtime(epoch))


def epoch(iso: str | None) -> float | None:
    """An ISO time as epoch seconds (None when absent or unparseable)."""
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:  # a host whose timestamps systemd.py could not parse: raw text
        return None


def describe(status: dict[str, Any]) -> str:
    """A unit's state, result and exit in a few words."""
    parts = [f"{status.get('state')}/{status.get('sub_state')}"]
    if status.get("result"):
        parts.append(f"result {status['result']}")
    if status.get("exit_signal"):
        parts.append(f"killed by {status['exit_signal']}")
    elif status.get("exit_code") not in (None, 0):
        parts.append(f"exit code {status['exit_code']}")
    return ", ".join(parts)


def last_exit(crash: dict[str, Any]) -> str:
    """A crash loop's last failure: exit code or signal, and when."""
    last = crash.get("last_exit") or {}
    if last.get("signal"):
        what = f"killed by {last['signal']}"
    elif last.get("code") not in (None, 0):
        what = f"exit code {last['code']}"
    else:
        what = f"result {last.get('result') or 'unknown'}"
    at = epoch(last.get("at"))
    return f"{what} at {clock(at)}" if at else what
