"""`recon check` against the real target: green when the host is set up, and otherwise a FAIL
gate that names the fix (a missing sudo rule, a broken systemctl, a missing unit, a changed
host key, no dbus-monitor) instead of a traceback."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import paramiko

from recon.onboarding.steps import keygen
from recon.web.context import runtime


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


def test_check_is_green_and_names_the_fix_for_a_missing_sudo_rule(app, target):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "check"])
    assert out.exit_code == 0, out.output
    assert "FAIL" not in out.output and "sudo allows restart" in out.output
    assert "ok    demo         unit change signals (dbus-monitor as recon-demo)" in out.output
    target.set_sudo_rule("demo-web.service", "restart", allowed=False)
    try:
        out = runner.invoke(args=["recon", "check", "demo"])
        assert out.exit_code == 1
        failing = [line for line in out.output.splitlines() if line.startswith("FAIL")]
        assert len(failing) == 1 and "demo-web: sudo allows restart" in failing[0]
        assert "recon sudoers demo-web" in out.output
    finally:
        target.set_sudo_rule("demo-web.service", "restart", allowed=True)


def test_check_fails_the_unit_signal_gate_without_dbus_monitor(make_app, target_info,
                                                                 monkeypatch):
    app = make_app([target_info], monitor=False)
    host = runtime(app).config.hosts["demo"]
    monkeypatch.setitem(runtime(app).config.hosts, "demo",
                        dataclasses.replace(host, dbus_monitor="/usr/bin/no-such-monitor"))
    out = app.test_cli_runner().invoke(args=["recon", "check", "demo"])
    failing = [line for line in out.output.splitlines() if line.startswith("FAIL")]
    assert out.exit_code == 1 and len(failing) == 1 and "unit change signals" in failing[0]
    assert "monitor_fallback_poll_seconds" in out.output
