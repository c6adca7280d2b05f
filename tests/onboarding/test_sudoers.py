"""`recon sudoers`: the sudoers lines of a host or service hold only its allowed actions, and
visudo accepts them."""

from __future__ import annotations

import shutil


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
