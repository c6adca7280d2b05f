"""Crash loops: a unit that systemd restarted again and again is ``crash-looping``.

Between two crashes a unit with ``Restart=`` looks ``active`` (it is running again), so its
row would stay green while it dies every few seconds. The monitor already reads ``NRestarts``
(systemd's count of automatic restarts) with every read of the host; each read that finds it
higher than the last one saw records that many restarts at the read's time. A unit with
``crash_loop_restarts`` of them within ``crash_loop_window_seconds`` is crash-looping, and
stays so until it went a whole window without an automatic restart: it is shown running again
once it *stayed* up, not as soon as its oldest restart leaves the window. A unit that is
stopped, or failed for good (systemd's start limit), is shown as that instead.

The record lives in the unit's status object (``crash``), so it survives a host moving to
another process and needs no table of its own: each read carries the previous read's record
forward (:func:`track`). A restart by hand resets ``NRestarts`` on the host; the restarts
already counted still count. ``last_exit`` keeps the last failure a read caught (exit code or
signal, systemd's result and when), which a read of the unit running again no longer shows.
Pure functions: no database, no clock but the times given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from recon.monitor.models import iso

# Restart times kept at most (the count a message and the row show): enough to say "12
# restarts in 5 min" truthfully, small enough to ride in every read of the unit.
KEEP_TIMES = 50
# A looping unit read "failed" within this long of its failing is between two restarts.
FAILED_GRACE_SECONDS = 5.0


def _epoch(text: str | None) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None
    except ValueError:  # a host whose timestamps could not be parsed: raw text
        return None


def failure(status: dict[str, Any]) -> dict[str, Any] | None:
    """The end of the main process that ``status`` shows, if it was a failure."""
    result = status.get("result")
    code, sig = status.get("exit_code"), status.get("exit_signal")
    if (result in (None, "success")) and code in (None, 0) and not sig:
        return None
    return {"code": code, "signal": sig, "result": result}


def track(old: dict[str, Any] | None, new: dict[str, Any], at: float, *, restarts: int,
          window: float) -> None:
    """Set ``new``'s ``crash_looping`` and ``crash`` from ``old`` (the previous read of the
    unit, None for the first) and the restarts ``new`` shows; ``at`` is when ``new`` was read.

    ``crash``: ``times`` (epochs of the automatic restarts seen, at most :data:`KEEP_TIMES`),
    ``count``
    (how many of them are within the window), ``last`` (the newest restart, epoch),
    ``since`` (ISO, when the loop began), ``window_seconds`` and ``last_exit``
    (``{at, code, signal, result}``).
    """
    prev = (old or {}).get("crash") or {}
    times = [t for t in prev.get("times", ()) if isinstance(t, (int, float))]
    last = prev.get("last")
    before = (old or {}).get("restarts")
    count = new.get("restarts")
    if old is not None and isinstance(before, int) and isinstance(count, int) and count > before:
        # Several restarts between two reads: all of them now (at most what can matter).
        times += [at] * min(count - before, KEEP_TIMES)
        last = at
    times = [t for t in times if t > at - window][-max(restarts, KEEP_TIMES):]
    last_exit = prev.get("last_exit")
    failed = failure(new)
    if failed is not None:
        when = _epoch(new.get("state_changed")) or _epoch(new.get("inactive_since")) or at
        last_exit = {"at": iso(when), **failed}
    was = bool((old or {}).get("crash_looping"))
    # A unit stopped (by hand) or given up on (failed: the start limit) is no longer looping:
    # its row says that instead; its restarts still count if it is started and loops again.
    # systemd before 254 passes through "failed" on its way to the next restart: a loop read
    # failed only just now (FAILED_GRACE_SECONDS) goes on; failed for longer, it has ended.
    changed = _epoch(new.get("state_changed"))
    passing = was and changed is not None and at - changed < FAILED_GRACE_SECONDS
    ended = new.get("state") == "inactive" or (new.get("state") == "failed" and not passing)
    looping = (len(times) >= restarts or (was and last is not None and last > at - window)) \
        and not ended
    new["crash_looping"] = looping
    if not times and not last_exit and not looping:
        return
    since = prev.get("since") if was and looping else (iso(at) if looping else None)
    new["crash"] = {"times": times, "count": len(times), "last": last, "since": since,
                    "window_seconds": window, "last_exit": last_exit}
