"""``[terminals.users]`` and ``[hosts.NAME.terminal_users]``: a RECON user's own host login.
Every bad entry is refused with its key named, and no mapping may hand out RECON's own login."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from recon.config import ConfigError, parse_config

HOST = """
[hosts.web]
address = "192.0.2.10"
user = "recon"
key = "id"
terminal_user = "recon-term"
"""


def _parse(extra: str, host: str = HOST):
    return parse_config(tomllib.loads(host + extra), Path("/x/recon.toml"), Path("/x"), env={},
                        check_keys=False)


def _errors(extra: str, host: str = HOST) -> str:
    with pytest.raises(ConfigError) as err:
        _parse(extra, host)
    return "\n".join(err.value.errors)


def test_a_host_entry_wins_over_the_fleet_entry_and_unmapped_users_get_nothing():
    config = _parse('[hosts.web.terminal_users]\nalice = "alice-adm"\n'
                    '[terminals.users]\nalice = "alice"\n'
                    'bob = { login = "bob", key = "dashboard" }\n')
    web = config.hosts["web"]
    assert config.terminal_login(web, "alice").login == "alice-adm"
    assert config.terminal_login(web, "alice").key == "user"
    bob = config.terminal_login(web, "bob")
    assert (bob.login, bob.key) == ("bob", "dashboard")
    assert config.terminal_login(web, "carol") is None
    assert hash(web)  # still a hashable frozen host


def test_no_mapping_is_no_change():
    config = _parse("")
    assert config.terminal_users == () and config.hosts["web"].terminal_users == ()
    assert config.terminal_login(config.hosts["web"], "alice") is None


@pytest.mark.parametrize(("extra", "message"), [
    ('[terminals.users]\nalice = "Alice Smith"\n', "terminals.users.alice.login"),
    ('[terminals.users]\nalice = "-oProxyCommand=x"\n', "not a valid login name"),
    ('[terminals.users]\nalice = { login = "alice", key = "root" }\n', "must be one of"),
    ('[terminals.users]\nalice = { login = "alice", shell = "/bin/sh" }\n', "unknown key"),
    ('[terminals.users]\nalice = 3\n', "expected a login name or a table"),
    ('[terminals.users]\n"../x" = "alice"\n', "not a RECON username"),
    ('[terminals]\nuser = {}\n', "terminals.user: unknown key"),
    ('[hosts.web.terminal_users]\nalice = ""\n', "hosts.web.terminal_users.alice.login"),
])
def test_a_bad_entry_is_refused_with_its_key(extra, message):
    assert message in _errors(extra)


def test_mapping_to_the_hosts_recon_user_is_refused_per_host_and_fleet_wide():
    assert "hosts.web.terminal_users.alice: 'recon' is the host's RECON user" in _errors(
        '[hosts.web.terminal_users]\nalice = "recon"\n')
    assert "terminals.users (host web).alice: 'recon' is the host's RECON user" in _errors(
        '[terminals.users]\nalice = "recon"\n')
