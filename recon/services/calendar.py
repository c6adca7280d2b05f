"""A timer's schedule in words: ``*-*-* 03:00:00`` is "every day at 03:00".

systemd shows a timer's ``TimersCalendar`` as ``{ OnCalendar=SPEC ; next_elapse=... }`` with
SPEC normalised (``minutely`` becomes ``*-*-* *:*:00``). :func:`calendar_specs` takes the
specs out of that text and :func:`describe` says the common forms in words; any other form is
returned as written (never guessed at). Pure functions, no host.
"""

from __future__ import annotations

import re

_SPEC_RE = re.compile(r"OnCalendar=([^;}]+)")
_WORDS = {
    "minutely": "every minute", "hourly": "every hour, on the hour",
    "daily": "every day at 00:00", "weekly": "every Monday at 00:00",
    "monthly": "on the 1st of every month at 00:00", "yearly": "every 1 January at 00:00",
    "annually": "every 1 January at 00:00", "quarterly": "every quarter (1 Jan, Apr, Jul, "
    "Oct) at 00:00", "semiannually": "every 1 January and 1 July at 00:00",
}
_DAYS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
         "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}
_PART = r"(\*|\d{1,2})(?:/(\d+))?"  # a value or *, with an optional /step
_TIME_RE = re.compile(rf"^{_PART}:{_PART}(?::{_PART})?$")


def calendar_specs(text: str | None) -> list[str]:
    """The ``OnCalendar=`` specs in a ``TimersCalendar`` value (empty when there are none)."""
    return [m.strip() for m in _SPEC_RE.findall(text or "")]


def _time_words(clock: str) -> str | None:
    """``03:00:00`` -> "at 03:00"; ``*:*:00`` -> "every minute"; None for what is not simple."""
    m = _TIME_RE.match(clock)
    if not m:
        return None
    hour, hstep, minute, mstep, second, sstep = m.groups()
    second = second or "00"
    if second == "*" and not sstep:
        return "every second" if hour == minute == "*" and not (hstep or mstep) else None
    if sstep or int(second) != 0 or minute == "*" and mstep:
        return None
    if hour == "*" and not hstep:
        if minute == "*":
            return "every minute"
        if mstep:
            return f"every {int(mstep)} minutes from :{int(minute):02d}"
        return ("every hour, on the hour" if int(minute) == 0
                else f"every hour at {int(minute):02d} past")
    if hour == "*" or minute == "*" or mstep:
        return None
    if hstep:
        return f"every {int(hstep)} hours from {int(hour):02d}:{int(minute):02d}"
    return f"at {int(hour):02d}:{int(minute):02d}"


def describe(spec: str) -> str:
    """One ``OnCalendar=`` spec in words, or the spec itself when its form is not a common one.

    >>> describe("*-*-* 03:00:00")
    'every day at 03:00'
    """
    spec = " ".join(spec.split())
    if spec.lower() in _WORDS:
        return _WORDS[spec.lower()]
    parts = spec.split(" ")
    days = None
    if parts and parts[0].rstrip(",").lower()[:3] in _DAYS and not parts[0][0].isdigit():
        names = [_DAYS.get(d.lower()[:3]) if d.isalpha() else None
                 for d in parts.pop(0).split(",")]
        if None in names or not parts:
            return spec
        days = names
    if len(parts) == 1 and ":" in parts[0]:
        parts.insert(0, "*-*-*")
    if len(parts) != 2:
        return spec
    date, clock = parts
    when = _time_words(clock)
    if when is None:
        return spec
    if date == "*-*-*":
        prefix = "every day" if not days else "every " + " and ".join(days)
    else:
        m = re.fullmatch(r"\*-\*-(\d{1,2})", date)
        if not m or days:
            return spec
        day = int(m.group(1))
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}.get(day, "th")
        prefix = f"on the {day}{suffix} of every month"
    if when.startswith("every"):
        return when if not days and date == "*-*-*" else f"{prefix}, {when}"
    return f"{prefix} {when}"
