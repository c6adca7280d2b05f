"""A process holding more than 1,024 descriptors still runs commands on its hosts: the
executor's wait was select(), which raised ``filedescriptor out of range`` for a channel
numbered past 1023 and killed the monitor's supervisors at a few hundred hosts."""

from __future__ import annotations

import os
import resource
import time

import pytest


@pytest.fixture
def fill_descriptors():
    """Call it to hold every free descriptor below 1100, so the next ones the process opens
    are numbered past it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        if hard != resource.RLIM_INFINITY and hard < 2048:
            pytest.skip(f"the descriptor limit {hard} is below 2048")
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    held: list[int] = []

    def fill() -> None:
        while not held or held[-1] < 1100:
            held.extend(os.pipe())

    try:
        yield fill
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_command_runs_when_its_channel_is_numbered_past_1023(runtime, fill_descriptors):
    host = runtime.config.hosts["demo"]
    runtime.executor.close_all()  # a new connection: its channels get high descriptors
    fill_descriptors()
    result = runtime.executor.run(host, ["echo", "still here"], timeout=10)
    channel = runtime.executor.open_channel(host, deadline=time.monotonic() + 5)
    try:
        assert channel.fileno() > 1023
    finally:
        channel.close()
    assert result.ok and result.stdout.strip() == "still here"
