"""Waiting on descriptors past 1023: select() refused them (FD_SETSIZE), poll() does not."""

from __future__ import annotations

import os
import resource
import select
from collections.abc import Iterator

import pytest

from recon.core.waits import wait_readable


@pytest.fixture
def high_pipe() -> Iterator[tuple[int, int]]:
    """A pipe whose descriptors are numbered past 1100 (lower ones held by filler pipes)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1400:
        if hard != resource.RLIM_INFINITY and hard < 1400:
            pytest.skip(f"the descriptor limit {hard} is below 1400")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1400, hard))
    filler: list[int] = []
    try:
        while True:
            r, w = os.pipe()
            if r > 1100:
                break
            filler += [r, w]
        filler += [r, w]
        yield r, w
    finally:
        for fd in filler:
            try:
                os.close(fd)
            except OSError:
                pass  # closed by the test
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_select_refuses_such_a_descriptor(high_pipe):
    r, _ = high_pipe
    with pytest.raises(ValueError, match="out of range"):
        select.select([r], [], [], 0)


def test_a_descriptor_past_1023_is_waited_on(high_pipe):
    r, w = high_pipe
    assert wait_readable([r], 0.01) == []
    os.write(w, b"x")
    assert wait_readable([r], 1.0) == [r]


def test_a_closed_writer_wakes_the_reader(high_pipe):
    r, w = high_pipe
    os.close(w)
    assert wait_readable([r], 1.0) == [r]
