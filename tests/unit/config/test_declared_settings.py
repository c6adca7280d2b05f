"""The settings are declared once (recon/config/settings.py); the README's table and the example
config cannot drift from that declaration, and a value out of its declared range is refused."""

from __future__ import annotations

import tomllib
from dataclasses import fields

import pytest
from helpers import ROOT

from recon.config import ConfigError, parse_config
from recon.config.docs import readme_block
from recon.config.settings import SETTING_RANGES, Settings, markdown_table
from recon.onboarding.steps import keygen


def test_the_readme_settings_table_is_the_declared_one():
    documented = readme_block((ROOT / "README.md").read_text(), "settings")
    assert documented == markdown_table(), (
        "README.md's settings table differs from recon/config/settings.py; run `python -m "
        "recon.config.docs --write` or paste this between the settings markers:\n"
        + markdown_table())


def test_every_numeric_setting_has_a_range_and_a_doc_and_its_default_is_in_it():
    for f in fields(Settings):
        assert f.metadata["option"].doc, f.name
        if isinstance(f.default, (int, float)) and not isinstance(f.default, bool):
            low, high = SETTING_RANGES[f.name]
            assert low <= f.default <= high, f.name


def test_the_example_config_uses_only_declared_settings_with_valid_values(tmp_path):
    example = tomllib.loads((ROOT / "recon.example.toml").read_text())
    assert set(example["settings"]) <= {f.name for f in fields(Settings)}
    config = parse_config(example, ROOT / "recon.example.toml", ROOT, env={}, check_keys=False)
    for name, value in example["settings"].items():
        assert getattr(config.settings, name) == value


@pytest.mark.parametrize("setting,value", [
    ("log_stream_keepalive_seconds", 0), ("log_streams_max", -1),
    ("terminal_max_sessions_per_user", 0), ("held_threads_per_user", -5),
    ("status_cache_seconds", -1), ("max_request_bytes", 0), ("audit_retention_days", 0),
    ("terminal_revoke_check_seconds", 0),
])
def test_every_setting_is_range_checked(tmp_path, setting, value):
    keygen(tmp_path / "id_ed25519")
    data = {"settings": {setting: value},
            "hosts": {"web1": {"address": "10.0.0.5", "user": "recon", "key": "id_ed25519"}},
            "services": []}
    with pytest.raises(ConfigError) as info:
        parse_config(data, tmp_path / "recon.toml", tmp_path, {})
    assert any(f"settings.{setting}" in e and "range" in e for e in info.value.errors)
