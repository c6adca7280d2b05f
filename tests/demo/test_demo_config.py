"""The recon.toml the demo writes for its hosts (recon.demo.recon_config)."""

from __future__ import annotations

from recon.demo.recon_config import demo_config_toml


def test_the_demo_config_names_the_terminal_user(target_info):
    assert f'terminal_user = "{target_info.terminal_user}"' in demo_config_toml([target_info])
