"""A process holding more than 1,024 descriptors still runs commands on its hosts: the
executor's wait was select(), which raised ``filedescriptor out of range`` for a channel
numbered past 1023 and killed the monitor's supervisors at a few hundred hosts."""

from __future__ import annotations

import time

from descriptors import descriptor_filler


def test_a_command_runs_when_its_channel_is_numbered_past_1023(runtime):
    host = runtime.config.hosts["demo"]
    runtime.executor.close_all()  # a new connection: its channels get high descriptors
    with descriptor_filler() as fill:
        fill()
        result = runtime.executor.run(host, ["echo", "still here"], timeout=10)
        numbers = []
        for _ in range(5):  # a background thread of an earlier test may free a low one
            channel = runtime.executor.open_channel(host, deadline=time.monotonic() + 5)
            try:
                fill()
                numbers.append(channel.fileno())  # the channel's pipe is made here
            finally:
                channel.close()
            if numbers[-1] > 1023:
                break
        assert numbers[-1] > 1023, numbers
    assert result.ok and result.stdout.strip() == "still here"
