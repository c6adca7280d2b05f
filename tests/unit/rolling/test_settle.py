"""A unit settling after a rolling step (recon.rolling.settle): unstable exactly when it moved
-- a new main PID or restart count, down, failed or inactive -- and saying how."""

from __future__ import annotations

import pytest

from recon.rolling import settle as watch


@pytest.mark.parametrize("now,expected", [
    ({"state": "active", "main_pid": 10, "restarts": 0}, None),
    ({"state": "reloading", "main_pid": 10, "restarts": 0}, None),
    ({"state": "active", "main_pid": 12, "restarts": 1},
     ("restarted", ["NRestarts 0 → 1", "MainPID 10 → 12"])),
    ({"state": "active", "main_pid": 12, "restarts": 0}, ("restarted", ["MainPID 10 → 12"])),
    ({"state": "activating", "sub_state": "auto-restart", "main_pid": None, "restarts": 0,
      "exit_code": 1}, ("went down", ["exited 1", "systemd is restarting it"])),
    ({"state": "failed", "main_pid": None, "restarts": 0, "exit_signal": "SIGSEGV"},
     ("failed", ["killed by SIGSEGV"])),
    ({"state": "inactive", "main_pid": None, "restarts": 0, "result": "success"},
     ("went inactive", ["result success"])),
])
def test_a_settling_unit_is_unstable_exactly_when_it_moved(now, expected):
    assert watch.instability(now, {"state": "active", "main_pid": 10, "restarts": 0}) == \
        expected
