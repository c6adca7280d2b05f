"""enable / disable at boot, reset-failed and (admin only) mask / unmask, against the real
host: each runs exactly the argv of RECON's own sudoers line, is audited, and changes what
systemd reports."""

from __future__ import annotations

from conftest import client_for
from helpers import wait_for

from recon.config import DEFAULT_ACTIONS, parse_config

UNIT = "demo-worker.service"


def file_state(target) -> str:
    return target.show(UNIT, "UnitFileState")["UnitFileState"]


def audit_of(client, action: str) -> dict:
    return client.get(f"/api/audit?action={action}&limit=1").get_json()["entries"][0]


def test_disable_and_enable_change_the_unit_file_state_on_the_host(client, target):
    assert file_state(target) == "enabled"
    try:
        r = client.post("/api/services/demo-worker/disable")
        assert r.status_code == 200 and r.get_json()["success"], r.get_json()
        assert file_state(target) == "disabled"
        assert r.get_json()["status"]["enabled"] == "disabled"
        assert target.show(UNIT, "ActiveState")["ActiveState"] == "active"  # not stopped
        entry = audit_of(client, "disable")
        assert entry["service"] == "demo-worker" and entry["success"] is True
        r = client.post("/api/services/demo-worker/enable")
        assert r.get_json()["success"] and r.get_json()["status"]["enabled"] == "enabled"
        assert file_state(target) == "enabled"
    finally:
        target.systemctl("enable", UNIT)


def test_reset_failed_clears_a_real_crash(client, target):
    target.run(["kill", "-9", str(target.main_pid(UNIT))])
    try:
        assert wait_for(lambda: target.show(UNIT, "ActiveState")["ActiveState"] == "failed")
        status = wait_for(lambda: (s := client.get("/api/services/demo-worker/status").get_json())
                          ["state"] == "failed" and s, timeout=8)
        assert status["result"] == "signal" and status["exit_signal"] == "SIGKILL"
        r = client.post("/api/services/demo-worker/reset-failed")
        assert r.get_json()["success"], r.get_json()
        assert target.show(UNIT, "ActiveState")["ActiveState"] == "inactive"
        assert r.get_json()["status"]["state"] == "inactive"
        assert audit_of(client, "reset-failed")["success"] is True
    finally:
        target.systemctl("start", UNIT)


def test_mask_is_admin_only_and_unmask_restores_the_unit(app, target):
    operator, admin = client_for(app, "operator"), client_for(app, "admin")
    before = len(target.command_log())
    r = operator.post("/api/services/demo-worker/mask")
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    assert "admin" in r.get_json()["hint"]
    assert not [c for c in target.command_log()[before:] if " mask " in c]
    assert audit_of(admin, "mask")["error"] == "forbidden"
    assert operator.post("/api/services/demo-worker/disable").status_code == 200  # operator ok
    target.systemctl("enable", UNIT)
    try:
        r = admin.post("/api/services/demo-worker/mask")
        assert r.get_json()["success"], r.get_json()
        assert file_state(target) == "masked"
        assert r.get_json()["status"]["masked"] is True
        r = admin.post("/api/services/demo-worker/unmask")
        assert r.get_json()["success"] and file_state(target) != "masked"
    finally:
        target.systemctl("unmask", UNIT, check=False)
        target.systemctl("enable", UNIT)
        target.systemctl("start", UNIT)


def test_setup_actions_are_opt_in_and_get_exact_sudoers_lines(app, target_info, tmp_path):
    key = tmp_path / "k"
    key.write_text("")
    config = parse_config({"hosts": {"h": {"address": "a", "user": "u", "key": "k"}},
                           "services": [{"slug": "s", "host": "h", "unit": "x"}]},
                          tmp_path / "recon.toml", tmp_path, env={}, check_keys=False)
    assert config.services["s"].actions == frozenset(DEFAULT_ACTIONS)
    assert "enable" not in DEFAULT_ACTIONS and "mask" not in DEFAULT_ACTIONS
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "sudoers", "demo-worker"]).output
    for action in ("enable", "disable", "reset-failed", "mask", "unmask"):
        assert f"NOPASSWD: {target_info.systemctl} {action} {UNIT}\n" in out
    cron = runner.invoke(args=["recon", "sudoers", "demo-cron"]).output  # not opted in
    assert " enable " not in cron and " mask " not in cron


def test_check_gates_each_setup_action_with_its_fix(app, target):
    runner = app.test_cli_runner()
    target.set_sudo_rule(UNIT, "enable", allowed=False)
    try:
        out = runner.invoke(args=["recon", "check", "demo"])
        assert out.exit_code == 1
        failing = [ln for ln in out.output.splitlines() if ln.startswith("FAIL")]
        assert len(failing) == 1 and "demo-worker: sudo allows enable" in failing[0], failing
        assert "demo-worker: sudo allows mask" in out.output
    finally:
        target.set_sudo_rule(UNIT, "enable", allowed=True)
