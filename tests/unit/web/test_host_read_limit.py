"""The per-user bound on reads of hosts (recon.web.ratelimit.ReadLimiter), on a fake clock:
so many at once, a burst refilled at a rate, each user on their own, a refusal that says when
to retry."""

from __future__ import annotations

import pytest

from recon.web.ratelimit import ReadLimiter, TooManyReads


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_reads_past_the_in_flight_bound_are_refused_until_one_ends():
    limiter = ReadLimiter(in_flight=2, burst=10, per_second=1, clock=Clock())
    limiter.admit("vic")
    limiter.admit("vic")
    with pytest.raises(TooManyReads) as refused:
        limiter.admit("vic")
    assert refused.value.status == 429 and refused.value.code == "too_many_reads"
    assert refused.value.retry_after == 1 and "2 reads" in refused.value.message
    limiter.admit("olga")  # another user's bound is their own
    limiter.done("vic")
    limiter.admit("vic")


def test_a_burst_refills_at_the_rate_and_the_refusal_says_when():
    clock = Clock()
    limiter = ReadLimiter(in_flight=100, burst=3, per_second=0.5, clock=clock)
    for _ in range(3):
        with limiter.hold("vic"):
            pass
    with pytest.raises(TooManyReads) as refused:
        limiter.admit("vic")
    assert refused.value.retry_after == 2  # one read back every 2 s
    assert "Retry in 2 s" in refused.value.hint
    clock.now += 1.9
    with pytest.raises(TooManyReads):
        limiter.admit("vic")
    clock.now += 0.1
    limiter.admit("vic")
    clock.now += 3600  # never more than the burst, however long the wait
    for _ in range(3):
        limiter.admit("vic")
    with pytest.raises(TooManyReads):
        limiter.admit("vic")


def test_a_refused_read_costs_nothing_and_hold_releases_on_error():
    limiter = ReadLimiter(in_flight=1, burst=2, per_second=1, clock=Clock())
    with pytest.raises(RuntimeError), limiter.hold("vic"):
        raise RuntimeError("the host failed")
    with limiter.hold("vic"):  # the slot came back
        with pytest.raises(TooManyReads):
            limiter.admit("vic")  # refused: in flight; no token taken
    with pytest.raises(TooManyReads):  # both tokens spent by the two reads that ran
        limiter.admit("vic")


def test_idle_users_are_forgotten_once_many():
    clock = Clock()
    limiter = ReadLimiter(in_flight=1, burst=1, per_second=1, clock=clock)
    for i in range(1100):
        with limiter.hold(f"user{i}"):
            pass
        clock.now += 0.01
    clock.now += 5
    limiter.admit("late")
    assert len(limiter._budgets) < 1024
