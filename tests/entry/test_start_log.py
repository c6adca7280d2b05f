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


def test_the_start_log_names_the_config_its_hosts_and_services(monkeypatch, tmp_path,
                                                               target_info, caplog, capsys):
    import logging

    from recon.demo.recon_config import demo_config_toml
    from recon.entry.serve import announce_admin

    config = tmp_path / "recon.toml"
    config.write_text(demo_config_toml([target_info]))
    monkeypatch.setenv("RECON_CONFIG", str(config))
    monkeypatch.setenv("RECON_DATABASE_URI", f"sqlite:///{tmp_path / 'recon.db'}")
    monkeypatch.setenv("RECON_SECRET_KEY", "test")
    with caplog.at_level(logging.INFO, logger="recon.entry.serve"):
        announce_admin(demo=False)
    (line,) = [r.getMessage() for r in caplog.records if "RECON loaded" in r.getMessage()]
    assert f"config {config};" in line
    assert f"1 host(s): demo ({target_info.user}@{target_info.address}:{target_info.port})" in line
    assert "4 service(s): demo-web, demo-worker, demo-cron, demo-stuck" in line
    assert "RECON created the first user: admin" in capsys.readouterr().out
