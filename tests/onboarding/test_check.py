"""Issue 12, onboarding and config: keygen before the key exists, start-up errors without a
traceback, ranges and warnings, `recon check` gates, one sudo-refusal test under LC_ALL=C."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import paramiko
import pytest
from conftest import client_for
from helpers import ROOT

from recon.config import ConfigError, parse_config
from recon.demo.recon_config import demo_config_toml
from recon.onboarding.steps import keygen
from recon.ssh.errors import is_sudo_refusal

FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]


def run_cli(args, tmp_path, config: Path, **env):
    return subprocess.run(
        FLASK + args, cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "RECON_CONFIG": str(config),
             "RECON_DATABASE_URI": f"sqlite:///{tmp_path / 'cli.db'}", **env})


def minimal(tmp_path, **host) -> Path:
    lines = ["[hosts.web1]", 'address = "10.0.0.5"', 'user = "recon"', 'key = "id_ed25519"']
    lines += [f"{k} = {v}" for k, v in host.items()]
    lines += ["", "[[services]]", 'slug = "web"', 'host = "web1"', 'unit = "nginx"']
    path = tmp_path / "recon.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_keygen_works_when_the_config_already_names_the_missing_key(tmp_path):
    config = minimal(tmp_path)
    out = run_cli(["recon", "keygen", "--path", str(tmp_path / "id_ed25519")], tmp_path, config)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ssh-ed25519 ")
    assert (tmp_path / "id_ed25519").stat().st_mode & 0o777 == 0o600


def test_a_bad_config_prints_only_the_messages_and_exits_non_zero(tmp_path):
    keygen(tmp_path / "id_ed25519")
    config = minimal(tmp_path, port=0)
    (tmp_path / "recon.toml").write_text(config.read_text() + "[settings]\n"
                                         "log_stream_keepalive_seconds = 0\n")
    for cmd in (FLASK + ["recon", "users", "list"],
                [sys.executable, "-m", "recon.entry.serve", "--bind", "127.0.0.1:1"]):
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "RECON_CONFIG": str(config),
                                  "RECON_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
        assert out.returncode != 0, cmd
        assert "Traceback" not in out.stderr + out.stdout, out.stderr
        assert "hosts.web1.port: must be 1-65535" in out.stderr
        assert "settings.log_stream_keepalive_seconds" in out.stderr


def test_a_locked_key_is_refused_at_start_without_a_traceback(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        PrivateFormat,
    )
    key = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.OpenSSH, BestAvailableEncryption(b"secret-passphrase"))
    (tmp_path / "id_ed25519").write_bytes(key)
    (tmp_path / "id_ed25519").chmod(0o600)
    config = minimal(tmp_path)
    out = subprocess.run([sys.executable, "-m", "recon.entry.serve", "--bind", "127.0.0.1:1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "RECON_CONFIG": str(config),
                              "RECON_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "passphrase" in out.stderr


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


def test_check_shows_the_terminal_separation_and_a_real_journal_read(app, target_info):
    out = app.test_cli_runner().invoke(args=["recon", "check"])
    assert out.exit_code == 0, out.output
    assert f"terminal login as {target_info.terminal_user}" in out.output
    assert f"terminal user {target_info.terminal_user} has no RECON sudo rights" in out.output
    assert "demo-web: journal readable" in out.output
    sudoers = app.test_cli_runner().invoke(args=["recon", "sudoers", "demo"]).output
    assert f"# No rules for {target_info.terminal_user}" in sudoers
    assert f"{target_info.terminal_user} ALL" not in sudoers


def test_check_fails_a_broken_systemctl_with_a_gate_not_a_traceback(make_app, target_info):
    app = make_app([dataclasses.replace(target_info, systemctl="/etc/hostname")])  # exit 126
    out = app.test_cli_runner().invoke(args=["recon", "check"])
    assert out.exit_code == 1 and out.exception is None or isinstance(out.exception, SystemExit)
    assert "Traceback" not in out.output
    assert any(line.startswith("FAIL") and "systemctl show works" in line
               for line in out.output.splitlines()), out.output


def test_check_skips_the_sudo_gates_of_a_missing_unit(make_app, target_info):
    app = make_app([dataclasses.replace(target_info,
                                        units=(*target_info.units, "ghost.service"))])
    out = app.test_cli_runner().invoke(args=["recon", "check"])
    assert out.exit_code == 1
    assert "unit ghost.service exists" in out.output
    assert "ghost: sudo allows" not in out.output and "ghost: journal" not in out.output


def test_check_says_replace_for_a_changed_host_key(make_app, target_info, tmp_path):
    other = paramiko.Ed25519Key.from_private_key_file(str(keygen_path(tmp_path)))
    host = target_info.host_key_line.split()[0]
    known = tmp_path / "kh"
    known.write_text(f"{host} ssh-ed25519 {other.get_base64()}\n")
    app = make_app([target_info], known_hosts=known)
    out = app.test_cli_runner().invoke(args=["recon", "check"])
    assert out.exit_code == 1
    assert "recon hosts trust demo --replace" in out.output


def keygen_path(tmp_path: Path) -> Path:
    path = tmp_path / "other_key"
    keygen(path)
    return path


def test_api_hints_name_the_hosts_exact_ssh_command(make_app, target_info, tmp_path):
    closed = dataclasses.replace(target_info, port=1)
    app = make_app([closed])
    body = client_for(app).post("/api/services/demo-web/restart").get_json()
    # the monitor found the port closed already: answered at once, saying why
    assert (body["error"], body["cause"]) == ("host_down", "unreachable")
    expected = (f"ssh -p 1 -i {target_info.key_path} -o UserKnownHostsFile="
                f"{app.config['RECON_KNOWN_HOSTS']} -o StrictHostKeyChecking=yes")
    assert body["ssh"].startswith(expected) and expected in body["hint"]
    assert body["ssh"].endswith(f"{target_info.user}@{target_info.address}")


def test_remote_commands_run_under_lc_all_c_and_refusals_are_recognised_once(app, runtime):
    host = runtime.config.hosts["demo"]
    result = runtime.executor.run(host, ["sh", "-c", "echo $LC_ALL"])
    assert result.stdout.strip() == "C"
    refused = runtime.executor.run(host, [host.sudo, "-n", "/bin/true"])
    assert is_sudo_refusal(refused.exit_code, refused.stderr)
    assert not is_sudo_refusal(0, "a password is required")


def test_the_demo_config_names_the_terminal_user(target_info):
    assert f'terminal_user = "{target_info.terminal_user}"' in demo_config_toml([target_info])
