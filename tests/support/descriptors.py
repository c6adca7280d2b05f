"""Holding every free descriptor below a number, so that what the process opens next is
numbered past it (select() refused descriptors past 1023)."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def descriptor_filler(below: int = 1100) -> Iterator[Callable[[], None]]:
    """Yields ``fill()``: it takes every free descriptor under ``below``; all are given back
    (and the descriptor limit restored) at the end."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * below
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.skip(f"the descriptor limit {hard} is below {want}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    held: list[int] = []

    def fill() -> None:
        while not held or held[-1] < below:
            held.extend(os.pipe())

    try:
        yield fill
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
