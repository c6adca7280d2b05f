"""The demo SSH target (recon.demo) is a real sshd + sudo + service manager on 127.0.0.1.

Everything is checked from the outside with Paramiko, as RECON will see it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the demo target needs root (useradd, /etc/sudoers.d, sshd)")

from recon.demo import DemoTarget, TargetInfo, UnitSpec, procs  # noqa: E402

PROPS = ("Id,Description,LoadState,ActiveState,SubState,UnitFileState,MainPID,"
         "ExecMainStatus,MemoryCurrent,NRestarts,ActiveEnterTimestamp")


def connect(info: TargetInfo, *, known_hosts: Path | None = None) -> paramiko.SSHClient:
    """Paramiko client that only accepts the host key listed in ``known_hosts``."""
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts or info.known_hosts_path))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(info.address, port=info.port, username=info.user,
                   pkey=paramiko.Ed25519Key.from_private_key_file(str(info.key_path)),
                   look_for_keys=False, allow_agent=False, timeout=5, banner_timeout=5,
                   auth_timeout=5)
    return client


def run(client: paramiko.SSHClient, command: str, timeout: float = 15) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``command``; fails the test instead of hanging."""
    _, stdout, stderr = client.exec_command(command, timeout=timeout)
    channel = stdout.channel
    assert channel.status_event.wait(timeout), f"no exit status within {timeout}s: {command}"
    return channel.recv_exit_status(), stdout.read().decode(), stderr.read().decode()


def show(client: paramiko.SSHClient, info: TargetInfo, *units: str) -> list[dict[str, str]]:
    """Unprivileged ``systemctl show`` of several units in one call, parsed per unit."""
    rc, out, err = run(client, f"{info.systemctl} show {' '.join(units)} --property={PROPS}")
    assert rc == 0, err
    blocks = [b for b in out.strip().split("\n\n") if b.strip()]
    return [dict(line.split("=", 1) for line in b.splitlines()) for b in blocks]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTarget]:
    demo = DemoTarget(tmp_path_factory.mktemp("demo-target"), name="pytest")
    started = time.monotonic()
    demo.start()
    assert time.monotonic() - started < 15
    yield demo
    sysroot = demo.sysroot
    demo.stop()
    assert procs.with_environ(f"RECON_DEMO_ROOT={sysroot}".encode()) == []


@pytest.fixture(scope="module")
def info(target: DemoTarget) -> TargetInfo:
    return target.info


@pytest.fixture(scope="module")
def ssh(info: TargetInfo) -> Iterator[paramiko.SSHClient]:
    client = connect(info)
    yield client
    client.close()


def test_info_describes_files_on_disk(info: TargetInfo) -> None:
    assert info.address == "127.0.0.1" and info.sudo == "/usr/bin/sudo"
    assert info.known_hosts_path.read_text() == info.host_key_line + "\n"
    assert info.host_key_line.startswith(f"[127.0.0.1]:{info.port} ssh-ed25519 AAAA")
    assert info.key_path.stat().st_mode & 0o777 == 0o600
    paramiko.Ed25519Key.from_private_key_file(str(info.key_path))
    for wrapper in (info.systemctl, info.journalctl):
        st = os.stat(wrapper)
        assert st.st_uid == 0 and st.st_mode & 0o022 == 0, wrapper
    assert info.units == ("demo-web.service", "demo-worker.service", "demo-cron.service",
                          "demo-stuck.service")


def test_key_login_and_verified_host_key(info: TargetInfo, ssh: paramiko.SSHClient) -> None:
    rc, out, _ = run(ssh, "id -un; command -v systemctl; command -v journalctl")
    assert rc == 0
    assert out.split() == [info.user, info.systemctl, info.journalctl]  # SetEnv PATH
    server_key = ssh.get_transport().get_remote_server_key()
    assert f"{server_key.get_name()} {server_key.get_base64()}" in info.host_key_line


def test_unknown_or_changed_host_key_is_rejected(info: TargetInfo, tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        connect(info, known_hosts=empty)
    other = paramiko.Ed25519Key.from_private_key_file(str(info.key_path))  # any other key
    changed = tmp_path / "changed_known_hosts"
    changed.write_text(f"[127.0.0.1]:{info.port} ssh-ed25519 {other.get_base64()}\n")
    with pytest.raises(paramiko.BadHostKeyException):
        connect(info, known_hosts=changed)


def test_status_readable_without_sudo_for_several_units(info: TargetInfo,
                                                        ssh: paramiko.SSHClient) -> None:
    units = ["demo-web.service", "demo-cron.service", "no-such.service"]
    web, cron, missing = show(ssh, info, *units)
    for unit in (web, cron):
        assert unit["ActiveState"] == "active" and unit["SubState"] == "running"
        assert unit["LoadState"] == "loaded" and unit["UnitFileState"] == "enabled"
        assert procs.is_alive(int(unit["MainPID"]))
    assert web["Id"] == "demo-web.service" and web["Description"] == "Demo web server"
    assert missing["LoadState"] == "not-found"
    rc, out, _ = run(ssh, "systemctl is-active demo-worker.service")  # bare name via PATH
    assert (rc, out.strip()) == (0, "active")


def test_sudo_stop_and_start_really_act(info: TargetInfo, ssh: paramiko.SSHClient) -> None:
    unit = "demo-worker.service"
    (before,) = show(ssh, info, unit)
    old_pid = int(before["MainPID"])
    rc, _, err = run(ssh, f"sudo -n {info.systemctl} stop {unit}")
    assert rc == 0, err
    assert not procs.is_alive(old_pid)
    (stopped,) = show(ssh, info, unit)
    assert stopped["ActiveState"] == "inactive"
    rc, _, err = run(ssh, f"sudo -n {info.systemctl} start {unit}")
    assert rc == 0, err
    (started,) = show(ssh, info, unit)
    new_pid = int(started["MainPID"])
    assert started["ActiveState"] == "active" and new_pid != old_pid
    assert procs.is_alive(new_pid)
    assert "heartbeat" in procs.cmdline(new_pid)
    rc, _, err = run(ssh, f"sudo -n {info.systemctl} restart {unit}")
    assert rc == 0, err
    (restarted,) = show(ssh, info, unit)
    assert int(restarted["MainPID"]) != new_pid and not procs.is_alive(new_pid)


def test_commands_outside_the_rules_fail_fast(info: TargetInfo, ssh: paramiko.SSHClient) -> None:
    for command in (f"sudo -n {info.systemctl} restart ssh.service",
                    "sudo -n /bin/true",
                    "sudo -n systemctl restart demo-web.service",  # bare: sudo's secure_path
                    f"sudo -n {info.systemctl} restart demo-web.service demo-cron.service"):
        started = time.monotonic()
        rc, _, err = run(ssh, command)
        assert rc == 1 and "a password is required" in err, command
        assert time.monotonic() - started < 2


def test_set_sudo_rule_withdraws_and_grants(target: DemoTarget, info: TargetInfo,
                                           ssh: paramiko.SSHClient) -> None:
    restart = f"sudo -n {info.systemctl} restart demo-cron.service"
    target.set_sudo_rule("demo-cron.service", "restart", allowed=False)
    try:
        rc, _, err = run(ssh, restart)
        assert rc == 1 and "a password is required" in err
        assert run(ssh, f"sudo -n -l {info.systemctl} stop demo-cron.service")[0] == 0
    finally:
        target.set_sudo_rule("demo-cron.service", "restart", allowed=True)
    assert run(ssh, f"sudo -n -l {info.systemctl} restart demo-cron.service")[0] == 0
    assert oct(target.sudoers_file.stat().st_mode & 0o777) == "0o440"


def test_journal_through_sudo(info: TargetInfo, ssh: paramiko.SSHClient) -> None:
    # The argv shape RECON sends (recon.logs.query); the sudoers rule admits only that shape.
    tail = "--no-pager -o short-iso -r -n 5"
    deadline = time.monotonic() + 5  # the shipper feeds the real journal within ms
    while True:
        rc, out, err = run(ssh, f"sudo -n {info.journalctl} -u demo-web.service {tail}")
        assert rc == 0 and err == ""
        if "demo-web: heartbeat" in out or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "demo-web: heartbeat" in out
    rc, _, err = run(ssh, f"sudo -n {info.journalctl} -u demo-cron.service {tail}")
    assert rc == 0, err
    rc, _, err = run(ssh, f"sudo -n {info.journalctl} -u ssh.service {tail}")
    assert rc == 1 and "a password is required" in err


def test_hung_reload_is_ended_by_remote_timeout(target: DemoTarget, info: TargetInfo,
                                                ssh: paramiko.SSHClient) -> None:
    started = time.monotonic()
    rc, _, _ = run(ssh, f"timeout 2 sudo -n {info.systemctl} reload demo-stuck.service")
    assert rc == 124 and time.monotonic() - started < 5
    deadline = time.monotonic() + 3
    while target.remote_processes("sleep 600") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert target.remote_processes("sleep 600") == []
    assert target.remote_processes(f"{info.sysroot}/lib/systemctl3-main") == []
    (stuck,) = show(ssh, info, "demo-stuck.service")
    assert stuck["ActiveState"] == "active"


def test_command_log_records_ssh_commands(target: DemoTarget, ssh: paramiko.SSHClient) -> None:
    marker = "echo 'multi\nline' # command-log-probe"
    assert run(ssh, marker)[0] == 0
    assert target.command_log()[-1] == marker


def test_restart_sshd_keeps_host_key(target: DemoTarget, info: TargetInfo) -> None:
    old = connect(info)
    old_pid = target.remote_processes(str(info.root / "sshd" / "sshd_config"))
    target.restart_sshd(drop_sessions=True)
    assert target.remote_processes(str(info.root / "sshd" / "sshd_config")) != old_pid
    with pytest.raises((paramiko.SSHException, EOFError, OSError)):
        run(old, "true", timeout=5)
    old.close()
    fresh = connect(info)  # RejectPolicy + same known_hosts: the host key did not change
    assert run(fresh, "true")[0] == 0
    fresh.close()


def test_stop_leaves_nothing_running(tmp_path: Path, info: TargetInfo) -> None:
    spec = [UnitSpec("alpha.service", "Alpha"), UnitSpec("beta.service", "Beta", enabled=False)]
    second = DemoTarget(tmp_path, name="pytest-stop", units=spec)
    other = second.start()  # runs alongside the module's target
    assert other.port != info.port and other.units == ("alpha.service", "beta.service")
    client = connect(other)
    assert run(client, "nohup sleep 321 >/dev/null 2>&1 &")[0] == 0
    rc, out, _ = run(client, f"{other.systemctl} is-active alpha.service beta.service")
    assert out.split() == ["active", "inactive"]
    sshd_pids = second.remote_processes(str(other.root / "sshd" / "sshd_config"))
    assert sshd_pids and second.remote_processes("sleep 321")
    second.stop()
    client.close()
    assert second.remote_processes(str(other.sysroot)) == []
    assert second.remote_processes("sleep 321") == []
    assert not any(procs.is_alive(p) for p in sshd_pids)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", other.port), timeout=1).close()
    assert not second.sudoers_file.exists() and not other.sysroot.exists()


def test_busy_fixed_port_fails_cleanly(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        target = DemoTarget(tmp_path, name="pytest-busy", port=port, units=[])
        with pytest.raises(OSError, match="already in use"):
            target.start()
    assert not target.sudoers_file.exists() and not target.sysroot.exists()
    assert not (tmp_path / "target.json").exists()
