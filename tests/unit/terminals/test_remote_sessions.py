"""The terminal GC of one replica does not close another machine's terminals as orphans (its
ttyd is not here to look at): only their time limits apply."""

from __future__ import annotations

from types import SimpleNamespace

from recon.terminals.gc import verdict


def _session(**kw) -> SimpleNamespace:
    base = {"spawner": "4242:123@replica-b", "status": "running", "expires_at": 2000.0,
            "last_activity_at": 990.0, "created_at": 900.0}
    return SimpleNamespace(**{**base, **kw})


def test_another_machines_terminal_is_judged_by_its_times_only() -> None:
    assert verdict(_session(), now=1000, idle_seconds=600, start_timeout=10) is None
    assert verdict(_session(expires_at=999.0), now=1000, idle_seconds=600,
                   start_timeout=10) == "ttl"
    assert verdict(_session(last_activity_at=100.0), now=1000, idle_seconds=600,
                   start_timeout=10) == "idle"


def test_another_machines_terminal_whose_process_is_gone_is_an_orphan() -> None:
    """Its replica stopped renewing its monitor membership: the terminal ended with it."""
    assert verdict(_session(), now=1000, idle_seconds=600, start_timeout=10,
                   remote_alive=False) == "orphan"
