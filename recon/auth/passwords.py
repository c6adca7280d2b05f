"""Checking a password against its hash, a bounded number at a time in each process.

werkzeug's scrypt takes 32 MiB and a core's worth of work for each check, so a burst of
logins (120 at once raised a server from 300 MB to 2.5 GB) could starve everything else.
At most :data:`HASH_SLOTS` check runs at once per process and :data:`HASH_ADMITTED` may be
running or waiting; past that a login is refused at once with 503 ``login_busy`` and
Retry-After (it costs the caller nothing: the attempt is given back, see
:mod:`recon.auth.throttle`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from recon.auth import models
from recon.core.errors import ReconError

# Checks computed at once per process: with 2 workers, 2 on the machine. 2 per process kept
# /healthz no better and took 70 MB more at peak (make bench --only logins); 1 still checks
# ~10 logins a second per process.
HASH_SLOTS = 1
HASH_ADMITTED = 8  # checks running or waiting for a slot per process
HASH_WAIT = 3.0  # seconds an admitted check waits for a slot
BUSY_RETRY_AFTER = 2  # seconds

_slots = threading.BoundedSemaphore(HASH_SLOTS)
_admitted = threading.BoundedSemaphore(HASH_ADMITTED)


class LoginBusy(ReconError):
    """Too many password checks in this process right now."""

    status = 503
    code = "login_busy"
    hint = "RECON is checking many logins at once; try again in a few seconds."

    def __init__(self) -> None:
        super().__init__("too many logins are being checked right now",
                         retry_after=BUSY_RETRY_AFTER)


@contextmanager
def hashing_slot() -> Iterator[None]:
    """One of the process's password-hashing slots, or :class:`LoginBusy`."""
    if not _admitted.acquire(blocking=False):
        raise LoginBusy()
    try:
        if not _slots.acquire(timeout=HASH_WAIT):
            raise LoginBusy()
        try:
            yield
        finally:
            _slots.release()
    finally:
        _admitted.release()


def verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``, computed in a hashing slot."""
    with hashing_slot():
        return models.check_password_hash(password_hash, password)
