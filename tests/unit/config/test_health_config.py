"""``[services.health]``: each kind parses with its defaults, and every bad value is refused
with the key named (nothing of a check may reach a remote command unchecked)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from recon.config import ConfigError, parse_config
from recon.config.declare import REQUIRED, declared
from recon.config.health import HealthCheck

BASE = """
[hosts.web]
address = "192.0.2.10"
user = "recon"
key = "id"

[[services]]
slug = "app"
host = "web"
unit = "app.service"
"""


def _parse(health: str):
    text = BASE + "[services.health]\n" + health
    return parse_config(tomllib.loads(text), Path("/x/recon.toml"), Path("/x"), env={},
                        check_keys=False)


def _errors(health: str) -> str:
    with pytest.raises(ConfigError) as err:
        _parse(health)
    return "\n".join(err.value.errors)


def test_an_http_check_parses_with_its_defaults():
    check = _parse('kind = "http"\nurl = "http://127.0.0.1:8080/health"\n').services["app"].health
    assert (check.kind, check.url, check.expect_status, check.tls_verify) == (
        "http", "http://127.0.0.1:8080/health", "200-399", True)
    assert (check.interval, check.timeout, check.fail_after, check.recover_after) == (30, 5, 3, 2)
    assert check.status_ranges() == [(200, 399)]


def test_tcp_and_command_checks_parse():
    tcp = _parse('kind = "tcp"\naddress = "[::1]:5432"\ninterval = 10\n').services["app"].health
    assert tcp.address == "[::1]:5432" and tcp.interval == 10
    cmd = _parse('kind = "command"\ncommand = ["/usr/bin/test", "-S", "/run/a b.sock"]\n'
                 'fail_after = 1\nrecover_after = 5\n').services["app"].health
    assert cmd.command == ("/usr/bin/test", "-S", "/run/a b.sock") and cmd.recover_after == 5


def test_a_service_without_a_check_has_none():
    config = parse_config(tomllib.loads(BASE), Path("/x/recon.toml"), Path("/x"), env={},
                          check_keys=False)
    assert config.services["app"].health is None


@pytest.mark.parametrize(("health", "message"), [
    ('kind = "ping"\n', "health.kind: must be one of http, tcp, command"),
    ('kind = "http"\n', "health.url: required for a http check"),
    ('kind = "http"\nurl = "ftp://x/"\n', "health.url: must be an http"),
    ('kind = "http"\nurl = "http://x/a b"\n', "health.url: must be an http"),
    ('kind = "http"\nurl = "http://x/\'$(reboot)\'"\n', "health.url: must be an http"),
    ('kind = "http"\nurl = "http://-x/"\n', "health.url: must be an http"),
    ('kind = "http"\nurl = "http://x:70000/"\n', "health.url: the port must be 1-65535"),
    ('kind = "http"\nurl = "http://x/"\nexpect_status = "2xx"\n', "health.expect_status"),
    ('kind = "http"\nurl = "http://x/"\nexpect_status = "300-200"\n', "empty range"),
    ('kind = "http"\nurl = "http://x/"\nbody = "a\\nb"\n', "health.body: must be one line"),
    ('kind = "http"\nurl = "http://x/"\naddress = "x:1"\n',
     "health.address: not a key of a http check"),
    ('kind = "tcp"\naddress = "x"\n', "health.address: must be HOST:PORT"),
    ('kind = "tcp"\naddress = "x:0"\n', "health.address: the port must be 1-65535"),
    ('kind = "tcp"\naddress = "-oProxy=x:22"\n', "health.address: must be HOST:PORT"),
    ('kind = "command"\ncommand = []\n', "health.command: must not be empty"),
    ('kind = "command"\ncommand = ["sh", "-c", "true"]\n', "absolute program path"),
    ('kind = "command"\ncommand = ["/bin/x", "a\\nb"]\n', "health.command: must be a list"),
    ('kind = "command"\ncommand = "/bin/true"\n', "health.command"),
    ('kind = "tcp"\naddress = "x:1"\ninterval = 1\n', "health.interval: must be between 5"),
    ('kind = "tcp"\naddress = "x:1"\ninterval = 10\ntimeout = 10\n',
     "health.timeout: must be less than interval"),
    ('kind = "tcp"\naddress = "x:1"\nfail_after = 0\n', "health.fail_after"),
    ('kind = "tcp"\naddress = "x:1"\nrecover_after = "2"\n', "health.recover_after"),
    ('kind = "tcp"\naddress = "x:1"\ncolor = "red"\n', "health.color: unknown key"),
])
def test_a_bad_check_is_refused_with_its_key_named(health, message):
    assert message in _errors(health)


def test_health_must_be_a_table():
    text = BASE + 'health = "http://x/"\n'
    with pytest.raises(ConfigError) as err:
        parse_config(tomllib.loads(text), Path("/x/recon.toml"), Path("/x"), env={},
                     check_keys=False)
    assert "services[0] (app).health: expected a table" in "\n".join(err.value.errors)


def test_every_health_key_has_a_doc_and_its_default_and_example_pass_its_own_check():
    for key, f, opt in declared(HealthCheck):
        assert opt.doc, key
        for value in (f.default, opt.example):
            if value is REQUIRED or value is None or value == "" and key in ("url", "address"):
                continue  # "" is the key of another kind, left unset
            toml_value = list(value) if isinstance(value, tuple) else value
            assert opt.problems(toml_value, False) == [], (key, value)
