"""A timer's OnCalendar in words (recon.services.calendar); raw text for what is not common."""

from __future__ import annotations

import pytest

from recon.services.calendar import calendar_specs, describe


@pytest.mark.parametrize(("spec", "words"), [
    ("minutely", "every minute"),
    ("hourly", "every hour, on the hour"),
    ("daily", "every day at 00:00"),
    ("weekly", "every Monday at 00:00"),
    ("*-*-* *:*:00", "every minute"),
    ("*-*-* *:00:00", "every hour, on the hour"),
    ("*-*-* *:15:00", "every hour at 15 past"),
    ("*-*-* 03:00:00", "every day at 03:00"),
    ("03:30", "every day at 03:30"),
    ("*-*-* *:00/15:00", "every 15 minutes from :00"),
    ("*-*-* 00/6:00:00", "every 6 hours from 00:00"),
    ("Mon *-*-* 00:00:00", "every Monday at 00:00"),
    ("Mon,Fri *-*-* 09:30:00", "every Monday and Friday at 09:30"),
    ("*-*-01 00:00:00", "on the 1st of every month at 00:00"),
    ("*-*-* *:*:*", "every second"),
])
def test_common_calendar_forms_read_as_words(spec, words):
    assert describe(spec) == words


@pytest.mark.parametrize("spec", ["2026-03-01 12:00:00", "Mon..Fri *-*-* 09:00:00",
                                  "*-*-* 03:00:17", "*-02-* 03:00:00", "whenever"])
def test_other_forms_are_shown_as_written(spec):
    assert describe(spec) == spec


def test_specs_come_out_of_systemds_timers_calendar_text():
    text = ("{ OnCalendar=*-*-* *:*:00 ; next_elapse=Thu 2026-01-01 10:00:00 UTC } "
            "{ OnCalendar=*-*-* 03:00:00 ; next_elapse=n/a }")
    assert calendar_specs(text) == ["*-*-* *:*:00", "*-*-* 03:00:00"]
    assert calendar_specs(None) == []
