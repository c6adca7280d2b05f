"""The runbook's onboarding steps as CLI commands, against the real target."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat

import paramiko

from recon.onboarding.steps import keygen
from recon.ssh.hostkeys import known_hosts_name
from recon.web.context import runtime


def test_keygen_creates_a_private_key_once_and_prints_the_public_line(tmp_path):
    path = tmp_path / "id_ed25519"
    line = keygen(path)
    assert line.startswith("ssh-ed25519 AAAA") and "recon@" in line
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert paramiko.PKey.from_path(str(path)).get_name() == "ssh-ed25519"
    assert keygen(path) == line  # never overwritten


def test_trust_writes_the_key_only_after_confirmation(make_app, target_info, tmp_path):
    kh = tmp_path / "kh"
    kh.write_text("")
    app = make_app([target_info], known_hosts=kh)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["recon", "hosts", "trust", "demo"], input="n\n")
    assert refused.exit_code != 0 and "SHA256:" in refused.output
    assert "ssh-keygen -lf" in refused.output and kh.read_text() == ""
    ok = runner.invoke(args=["recon", "hosts", "trust", "demo", "--yes"])
    assert ok.exit_code == 0, ok.output
    assert target_info.host_key_line.split()[2] in kh.read_text()
    assert client_ok(app)


def test_a_changed_key_needs_replace_and_is_audited(make_app, target_info, tmp_path):
    kh = tmp_path / "kh"
    other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    name = known_hosts_name(target_info.address, target_info.port)
    kh.write_text(f"{name} ssh-ed25519 {other}\n")
    app = make_app([target_info], known_hosts=kh)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "hosts", "trust", "demo", "--yes"])
    assert out.exit_code != 0 and "CHANGED" in out.output
    out = runner.invoke(args=["recon", "hosts", "trust", "demo", "--yes", "--replace"])
    assert out.exit_code == 0, out.output
    assert other not in kh.read_text()
    from recon.audit.models import AuditEntry
    with app.app_context():
        assert AuditEntry.query.filter_by(action="host_key_replace").count() == 1


def client_ok(app) -> bool:
    from conftest import client_for
    return client_for(app).get("/api/services/demo-web/status?fresh=1").get_json()["active"]


def test_sudoers_prints_only_allowed_actions_and_validates(app, target_info):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "sudoers", "demo-cron"])
    assert out.exit_code == 0
    assert f"{target_info.systemctl} restart demo-cron.service" in out.output
    assert "reload" not in out.output and "ALL=(ALL) NOPASSWD: ALL" not in out.output
    if shutil.which("visudo"):
        checked = runner.invoke(args=["recon", "sudoers", "demo", "--check"])
        assert checked.exit_code == 0, checked.output
    assert runner.invoke(args=["recon", "sudoers", "nope"]).exit_code != 0


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
