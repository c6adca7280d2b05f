"""recon.toml validation: every bad value is reported with its file and key, nothing starts;
what is allowed but unwise is a warning."""

import pytest
from config_data import errors_of, good
from helpers import ROOT

from recon.config import ConfigError, load_config, parse_config
from recon.onboarding.steps import keygen


def test_valid_config_gets_defaults_and_a_normalized_unit(key, tmp_path):
    cfg = parse_config(good(key), tmp_path / "recon.toml", tmp_path, {})
    host = cfg.hosts["web1"]
    assert (host.port, host.connect_timeout, host.command_timeout, host.max_channels) == (
        22, 5.0, 10.0, 6)
    assert host.systemctl == "/usr/bin/systemctl" and host.use_sudo is True
    assert cfg.services["web"].unit == "nginx.service"
    assert cfg.services["web"].actions == {"status", "restart"}


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["services"][0].update(host="nope"), "services[0] (web).host: unknown host"),
    (lambda d: d["services"][0].update(slug="Bad Slug"), "services[0].slug: must match"),
    (lambda d: d["services"][0].update(unit="-x.service"), "not a valid systemd unit name"),
    (lambda d: d["services"][0].update(unit="a;rm -rf /"), "not a valid systemd unit name"),
    (lambda d: d["services"][0].update(actions=["start", "explode"]), "unknown action 'explode'"),
    (lambda d: d["services"].append(dict(d["services"][0])), "duplicate slug 'web'"),
    (lambda d: d["hosts"]["web1"].update(key="/nonexistent/key"), "cannot read key file"),
    (lambda d: d["hosts"]["web1"].update(address="-oProxyCommand=x"), "hosts.web1.address"),
    (lambda d: d["hosts"]["web1"].update(port=True), "hosts.web1.port"),
    (lambda d: d["hosts"]["web1"].update(systemctl="systemctl"), "must be an absolute path"),
    (lambda d: d["hosts"]["web1"].update(colour="red"), "hosts.web1.colour: unknown key"),
    (lambda d: d["hosts"]["web1"].update(max_channels=20), "max_channels: must be between"),
    (lambda d: d["hosts"]["web1"].update(max_channels=6.5), "max_channels: expected int"),
    (lambda d: d["hosts"]["web1"].update(sudo="/bin/sudo"), "hosts.web1.sudo: unknown key"),
])
def test_each_invalid_value_is_named_with_file_and_key(key, tmp_path, mutate, expected):
    data = good(key)
    mutate(data)
    errors = errors_of(data, tmp_path)
    assert any(expected in e for e in errors), errors
    assert all(e.startswith(str(tmp_path / "recon.toml")) for e in errors)


def test_all_errors_are_listed_at_once(key, tmp_path):
    data = good(key)
    data["services"][0].update(host="nope", unit="bad unit")
    data["hosts"]["web1"].update(user="Root!")
    assert len(errors_of(data, tmp_path)) == 3


def test_env_overrides_scalar_settings(key, tmp_path):
    cfg = parse_config(good(key), tmp_path / "recon.toml", tmp_path,
                       {"RECON_STATUS_CACHE_SECONDS": "0.5"})
    assert cfg.settings.status_cache_seconds == 0.5
    errs = errors_of(good(key), tmp_path, {"RECON_REFRESH_SECONDS": "soon"})
    assert any("settings.refresh_seconds" in e for e in errs)


def test_unreadable_or_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("hosts = [")
    with pytest.raises(ConfigError):
        load_config(bad)


def test_example_config_is_valid_apart_from_its_key_path(tmp_path):
    example = ROOT / "recon.example.toml"
    with pytest.raises(ConfigError) as info:
        load_config(example)
    assert all("cannot read key file" in e for e in info.value.errors), info.value.errors


@pytest.mark.parametrize("where, name, value", [
    ("service", "slug", "web\n"), ("service", "unit", "nginx.service\n"),
    ("service", "tags", ["web\n"]), ("service", "timer", "web.timer\n"),
    ("service", "allow", ["olga\n"]), ("host", "address", "10.0.0.5\n"),
    ("host", "user", "recon\n"), ("host", "systemctl", "/usr/bin/systemctl\n"),
    ("host", "terminal_user", "term\n"),
])
def test_a_trailing_newline_is_refused_like_any_other_bad_character(key, tmp_path, where,
                                                                     name, value):
    """`$` matches before a final newline: values that reach argv and sudoers lines are
    matched whole (the newline once slipped through every pattern)."""
    data = good(key)
    table = data["services"][0] if where == "service" else data["hosts"]["web1"]
    table[name] = value
    assert any(f".{name}" in e for e in errors_of(data, tmp_path))


def test_terminal_user_must_differ_from_user(tmp_path):
    keygen(tmp_path / "id_ed25519")
    data = {"hosts": {"web1": {"address": "10.0.0.5", "user": "recon", "key": "id_ed25519",
                               "terminal_user": "recon"}}}
    with pytest.raises(ConfigError) as info:
        parse_config(data, tmp_path / "recon.toml", tmp_path, {})
    assert any("terminal_user: must differ" in e for e in info.value.errors)


def test_warnings_for_a_shared_key_and_an_allow_entry_naming_no_role(tmp_path):
    keygen(tmp_path / "id_ed25519")
    (tmp_path / "id_ed25519").chmod(0o644)
    data = {"hosts": {"web1": {"address": "10.0.0.5", "user": "recon", "key": "id_ed25519"}},
            "services": [{"slug": "web", "host": "web1", "unit": "nginx",
                          "allow": ["role:wizard", "alice"]}]}
    cfg = parse_config(data, tmp_path / "recon.toml", tmp_path, {})
    assert any("readable by other users" in w for w in cfg.warnings)
    assert any("'role:wizard' names no role" in w for w in cfg.warnings)
    assert not any("alice" in w for w in cfg.warnings)


def test_a_bad_tag_is_a_config_error(tmp_path):
    raw = {"hosts": {"h": {"address": "a", "user": "u", "key": "k"}},
           "services": [{"slug": "s", "host": "h", "unit": "x", "tags": ["ok", "Not OK"]}]}
    with pytest.raises(ConfigError, match="tags"):
        parse_config(raw, tmp_path / "r.toml", tmp_path, env={}, check_keys=False)


def test_timer_must_be_a_timer_unit(tmp_path):
    raw = {"hosts": {"h": {"address": "a", "user": "u", "key": "k"}},
           "services": [{"slug": "s", "host": "h", "unit": "x", "timer": "x.service; id"}]}
    with pytest.raises(ConfigError, match="timer"):
        parse_config(raw, tmp_path / "r.toml", tmp_path, env={}, check_keys=False)


def test_a_service_expects_running_by_default_and_stopped_when_told_nothing_else(tmp_path):
    from recon.config import ServiceConfig
    from recon.config.declare import declared
    (opt,) = [o for name, _, o in declared(ServiceConfig) if name == "expect"]
    assert opt.choices == ("running", "stopped")
    assert opt.problems("sometimes", False) == ["must be running or stopped"]
    assert opt.problems("stopped", False) == []
