"""``make run``'s demo mode: where real demo hosts cannot boot, it says why and what to do."""

from __future__ import annotations

import pytest

from recon.demo import nspawn
from recon.entry.serve import start_demo


def test_demo_refuses_with_the_reason_and_the_way_to_a_real_host(monkeypatch, tmp_path):
    monkeypatch.setattr(nspawn, "unavailable_reason",
                        lambda: "booting demo hosts needs root (systemd-nspawn)")
    with pytest.raises(SystemExit) as exc:
        start_demo(tmp_path)
    message = str(exc.value)
    assert "needs root" in message and "instance/recon.toml" in message
    assert "recon.example.toml" in message and "recon check" in message
    assert not (tmp_path / "demo").exists()
