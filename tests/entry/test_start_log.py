"""The start of `make run` logs the config it loaded, its hosts and services, and the first
user it created."""

from __future__ import annotations


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
