"""Holding a rolling action in its first step, so a cancel lands during a step and not by
luck (rolling/test_rolling_actions.py and pages/test_rolling_in_browser.py)."""

from __future__ import annotations

import threading

from recon.rolling import runner


def hold_first_step(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Let the first rolling step run for real, then hold its end until ``release`` is set;
    ``first_done`` tells when it got there (so a cancel lands during a step, not by luck)."""
    first_done, release = threading.Event(), threading.Event()
    real = runner._wait_until_settled

    def gated(*args, **kwargs):
        outcome = real(*args, **kwargs)
        if not first_done.is_set():
            first_done.set()
            release.wait(30)
        return outcome

    monkeypatch.setattr(runner, "_wait_until_settled", gated)
    return first_done, release
