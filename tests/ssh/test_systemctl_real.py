"""What real systemd reports, read through RECON's own status call (recon.ssh.systemctl) over SSH:
a crash shows Result and the exit code or signal, restarts count, masked and unknown units,
and since is a real time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from helpers import wait_for

from recon.config import HostConfig
from recon.ssh import Executor, HostKeyStore
from recon.ssh.systemctl import fetch_statuses


@pytest.fixture
def status(target, target_info):
    host = HostConfig(name=target_info.name, address=target_info.address, user=target_info.user,
                      key_path=target_info.key_path, port=target_info.port)
    executor = Executor(HostKeyStore(target_info.known_hosts_path))
    yield lambda *units: fetch_statuses(executor, host, units)
    executor.close_all()


def test_since_is_a_real_utc_time_and_a_not_found_unit_is_not_found(status):
    st = status("demo-web.service", "no-such.service")
    web, missing = st["demo-web.service"], st["no-such.service"]
    since = datetime.fromisoformat(web["since"].replace("Z", "+00:00"))
    assert since.tzinfo is not None and since <= datetime.now(UTC)
    assert abs(since.timestamp() - web["since_epoch"]) < 1
    assert web["result"] == "success" and web["found"] is True
    assert missing["load_state"] == "not-found" and missing["found"] is False
    assert missing["since"] is None and missing["main_pid"] is None


def test_a_crash_shows_result_exit_code_and_restarts_count(target, status):
    before = status("demo-flaky.service")["demo-flaky.service"]["restarts"]
    # SIGUSR1 makes the daemon exit 1, as a crash would; Restart=on-failure brings it back.
    target.systemctl("kill", "--kill-whom=main", "--signal=SIGUSR1", "demo-flaky.service")
    crashed = wait_for(lambda: (s := status("demo-flaky.service")["demo-flaky.service"])
                       ["result"] == "exit-code" and s)
    assert crashed, "the crash never showed"
    assert crashed["exited_how"] == "exited" and crashed["exit_code"] == 1
    assert crashed["state"] == "activating" and crashed["sub_state"] == "auto-restart"
    assert crashed["transitioning"] is True
    back = wait_for(lambda: (s := status("demo-flaky.service")["demo-flaky.service"])
                    ["active"] and s)
    assert back and back["restarts"] == before + 1


def test_a_killed_unit_is_failed_with_its_signal(target, status):
    unit = "demo-worker.service"
    try:
        target.systemctl("kill", "--kill-whom=main", "--signal=SIGKILL", unit)
        failed = wait_for(lambda: (s := status(unit)[unit])["state"] == "failed" and s)
        assert failed and failed["result"] == "signal" and failed["exit_signal"] == "SIGKILL"
        assert failed["exited_how"] == "killed" and failed["main_pid"] is None
        assert failed["inactive_since"] and failed["state_changed"] >= failed["since"]
    finally:
        target.systemctl("start", unit)
    assert status(unit)[unit]["active"] is True


def test_a_masked_unit_reads_as_masked(target, status):
    unit = "demo-backup.service"
    target.systemctl("mask", "--runtime", unit)
    try:
        st = status(unit)[unit]
        assert st["load_state"] == "masked" and st["masked"] is True and st["found"] is True
    finally:
        target.systemctl("unmask", "--runtime", unit)
    assert status(unit)[unit]["masked"] is False
