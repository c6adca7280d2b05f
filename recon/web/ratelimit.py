"""Per-user bounds on the reads that make a host work (a unit's detail read from the host,
a log read): at most :data:`IN_FLIGHT` at once, and :data:`BURST` in a row refilled at
:data:`PER_SECOND`, for each user in each server process. Past either, the read is refused
with 429 ``too_many_reads`` and ``Retry-After`` before anything is sent.

Only reads are bounded here: actions need the operator role, are audited, and must go
through whatever viewers do.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask

from recon.core.errors import ApiError
from recon.web.context import per_app
from recon.web.policy import current_user

IN_FLIGHT = 4  # one user's reads running at once
BURST = 30  # reads in a row ...
PER_SECOND = 5.0  # ... refilled at this rate
_KEEP_USERS = 1024  # idle users' budgets beyond this many are forgotten (they are full)


class TooManyReads(ApiError):
    """429: this user's reads of hosts are past their bound; nothing was sent."""

    def __init__(self, message: str, hint: str, retry_after: int):
        super().__init__(429, "too_many_reads", message, hint, retry_after=retry_after)


@dataclass
class _Budget:
    tokens: float
    at: float
    running: int = 0


class ReadLimiter:
    """The bounds of every user of one process (thread-safe)."""

    def __init__(self, in_flight: int = IN_FLIGHT, burst: int = BURST,
                 per_second: float = PER_SECOND,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.in_flight, self.burst, self.per_second = in_flight, burst, per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._budgets: dict[str, _Budget] = {}

    def _budget(self, user: str, now: float) -> _Budget:
        budget = self._budgets.get(user)
        if budget is None:
            if len(self._budgets) >= _KEEP_USERS:
                self._forget_idle(now)
            budget = self._budgets[user] = _Budget(float(self.burst), now)
        budget.tokens = min(self.burst, budget.tokens + (now - budget.at) * self.per_second)
        budget.at = now
        return budget

    def _forget_idle(self, now: float) -> None:
        full = self.burst / self.per_second
        for user, budget in list(self._budgets.items()):
            if budget.running == 0 and now - budget.at >= full:
                del self._budgets[user]

    def admit(self, user: str) -> None:
        """Count one read of ``user`` as started, or raise :class:`TooManyReads`."""
        with self._lock:
            budget = self._budget(user, self._clock())
            if budget.running >= self.in_flight:
                raise TooManyReads(
                    f"{user} has {budget.running} reads of hosts running already",
                    "Wait for them to finish (close other tabs reading logs or unit details), "
                    "then retry.", retry_after=1)
            if budget.tokens < 1:
                wait = max(1, math.ceil((1 - budget.tokens) / self.per_second))
                raise TooManyReads(
                    f"{user} made {self.burst} reads of hosts in a short while",
                    f"Retry in {wait} s: each user may read hosts {self.per_second:g} times a "
                    f"second (bursts of {self.burst}).", retry_after=wait)
            budget.tokens -= 1
            budget.running += 1

    def done(self, user: str) -> None:
        with self._lock:
            budget = self._budgets.get(user)
            if budget is not None and budget.running > 0:
                budget.running -= 1

    @contextmanager
    def hold(self, user: str) -> Iterator[None]:
        self.admit(user)
        try:
            yield
        finally:
            self.done(user)




def read_limiter(app: Flask | None = None) -> ReadLimiter:
    """The process's limiter of ``app`` (default: the current app), made on first use."""
    return per_app("recon.read_limiter", ReadLimiter, app)


@contextmanager
def host_read() -> Iterator[None]:
    """One read of a host for the caller of this request, within its bounds (429 past)."""
    with read_limiter().hold(current_user().username):
        yield
