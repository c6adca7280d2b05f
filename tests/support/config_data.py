"""recon.toml test data: ``key`` (a fixture: a real private key, as the loader checks keys), a
small valid config (``good``) and the errors a config raises (``errors_of``). A fixture plugin
named in the root conftest."""

from __future__ import annotations

from pathlib import Path

import pytest

from recon.config import ConfigError, parse_config


@pytest.fixture
def key(tmp_path: Path) -> Path:
    from recon.onboarding.steps import keygen

    path = tmp_path / "id_ed25519"
    keygen(path)  # a real key: the loader checks it is usable and has no passphrase
    return path


def good(key: Path) -> dict:
    return {
        "hosts": {"web1": {"address": "10.0.0.5", "user": "recon", "key": str(key)}},
        "services": [{"slug": "web", "name": "Web", "host": "web1", "unit": "nginx",
                      "actions": ["status", "restart"]}],
    }


def errors_of(data: dict, tmp_path: Path, env: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, tmp_path / "recon.toml", tmp_path, env or {})
    return info.value.errors
