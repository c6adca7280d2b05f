"""The demo hosts (recon.demo) are real Debian hosts: systemd, journald, sshd and sudo booted in
systemd-nspawn containers, each on its own loopback address.

Everything is checked from the outside with Paramiko, as RECON will see it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import paramiko
import pytest

from recon.demo import Host, TargetInfo, Testbed, UnitSpec, procs, unavailable_reason
from recon.ssh.hostkeys import known_hosts_name

# host: two tests boot hosts themselves or bind port 22, with no host fixture to say so.
pytestmark = [pytest.mark.host,
              pytest.mark.skipif(unavailable_reason() is not None,
                                 reason=f"no real hosts: {unavailable_reason()}")]

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
def info(target: Host) -> TargetInfo:
    return target.info


@pytest.fixture(scope="module")
def ssh(info: TargetInfo) -> paramiko.SSHClient:
    client = connect(info)
    yield client
    client.close()


def test_info_describes_a_host_on_its_own_loopback_address(info: TargetInfo) -> None:
    assert info.address.startswith("127.") and info.address != "127.0.0.1" and info.port == 22
    assert (info.systemctl, info.journalctl, info.sudo) == (
        "/usr/bin/systemctl", "/usr/bin/journalctl", "/usr/bin/sudo")
    assert info.known_hosts_path.read_text() == info.host_key_line + "\n"
    assert info.host_key_line.startswith(f"{info.address} ssh-ed25519 AAAA")
    assert info.key_path.stat().st_mode & 0o777 == 0o600
    paramiko.Ed25519Key.from_private_key_file(str(info.key_path))
    assert info.units == ("demo-web.service", "demo-worker.service", "demo-cron.service",
                          "demo-stuck.service")


def test_key_login_real_systemd_and_verified_host_key(info: TargetInfo, target: Host,
                                                      ssh: paramiko.SSHClient) -> None:
    rc, out, _ = run(ssh, "id -un; hostname; cat /proc/1/comm; systemctl is-system-running")
    assert rc == 0
    assert out.split() == [info.user, info.name, "systemd", "running"]
    server_key = ssh.get_transport().get_remote_server_key()
    assert f"{server_key.get_name()} {server_key.get_base64()}" in info.host_key_line
    # the web unit really serves HTTP on the host's own address
    with socket.create_connection((info.address, 8080), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.0 200")


def test_unknown_or_changed_host_key_is_rejected(info: TargetInfo, tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        connect(info, known_hosts=empty)
    other = paramiko.Ed25519Key.from_private_key_file(str(info.key_path))  # any other key
    changed = tmp_path / "changed_known_hosts"
    changed.write_text(f"{known_hosts_name(info.address, info.port)} ssh-ed25519 "
                       f"{other.get_base64()}\n")
    with pytest.raises(paramiko.BadHostKeyException):
        connect(info, known_hosts=changed)


def test_status_readable_without_sudo_for_several_units(target: Host, info: TargetInfo,
                                                        ssh: paramiko.SSHClient) -> None:
    units = ["demo-web.service", "demo-cron.service", "no-such.service"]
    web, cron, missing = show(ssh, info, *units)
    for unit in (web, cron):
        assert unit["ActiveState"] == "active" and unit["SubState"] == "running"
        assert unit["LoadState"] == "loaded" and unit["UnitFileState"] == "enabled"
        assert target.pid_alive(int(unit["MainPID"]))
        assert unit["ActiveEnterTimestamp"].endswith(" UTC")  # real systemd sets it
    assert web["Id"] == "demo-web.service" and web["Description"] == "Demo web server"
    assert missing["LoadState"] == "not-found" and missing["MainPID"] == "0"


def test_sudo_stop_and_start_really_act(target: Host, info: TargetInfo,
                                        ssh: paramiko.SSHClient) -> None:
    unit = "demo-worker.service"
    (before,) = show(ssh, info, unit)
    old_pid = int(before["MainPID"])
    rc, _, err = run(ssh, f"sudo -n {info.systemctl} stop {unit}")
    assert rc == 0, err
    assert not target.pid_alive(old_pid)
    (stopped,) = show(ssh, info, unit)
    assert stopped["ActiveState"] == "inactive" and stopped["MainPID"] == "0"
    rc, _, err = run(ssh, f"sudo -n {info.systemctl} start {unit}")
    assert rc == 0, err
    (started,) = show(ssh, info, unit)
    new_pid = int(started["MainPID"])
    assert started["ActiveState"] == "active" and new_pid != old_pid
    assert target.pid_alive(new_pid)
    rc, _, err = run(ssh, f"sudo -n {info.systemctl} restart {unit}")
    assert rc == 0, err
    (restarted,) = show(ssh, info, unit)
    assert int(restarted["MainPID"]) != new_pid and not target.pid_alive(new_pid)


def test_commands_outside_the_rules_fail_fast(info: TargetInfo, ssh: paramiko.SSHClient) -> None:
    for command in (f"sudo -n {info.systemctl} restart ssh.service",
                    "sudo -n /bin/true",
                    "sudo -n systemctl restart demo-web.service demo-cron.service",
                    f"sudo -n {info.systemctl} restart demo-web.service demo-cron.service"):
        started = time.monotonic()
        rc, _, err = run(ssh, command)
        assert rc == 1 and "a password is required" in err, command
        assert "unable to resolve host" not in err
        assert time.monotonic() - started < 2


def test_set_sudo_rule_withdraws_and_grants(target: Host, info: TargetInfo,
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
    assert "from `recon sudoers`" in target.sudoers_file.read_text()


def test_journal_through_sudo_is_the_hosts_own_journald(info: TargetInfo,
                                                       ssh: paramiko.SSHClient) -> None:
    # The argv shape RECON sends (recon.logs.query); the sudoers rule admits only that shape.
    tail = "--no-pager -o short-iso -r -n 20"
    rc, out, err = run(ssh, f"sudo -n {info.journalctl} -u demo-web.service {tail}")
    assert rc == 0 and err == ""
    assert "demo-web: heartbeat" in out
    rc, out, err = run(ssh, f"sudo -n {info.journalctl} -u demo-cron.service {tail}")
    assert rc == 0 and "demo-cron: heartbeat" in out, err
    rc, _, err = run(ssh, f"sudo -n {info.journalctl} -u ssh.service {tail}")
    assert rc == 1 and "a password is required" in err


def test_hung_reload_client_is_ended_by_remote_timeout_and_the_job_by_systemd(
        target: Host, info: TargetInfo, ssh: paramiko.SSHClient) -> None:
    started = time.monotonic()
    rc, _, _ = run(ssh, f"timeout 2 sudo -n {info.systemctl} reload demo-stuck.service")
    assert rc == 124 and time.monotonic() - started < 5
    assert target.remote_processes("systemctl reload") == []
    (stuck,) = show(ssh, info, "demo-stuck.service")
    assert stuck["ActiveState"] == "reloading"  # the job is systemd's, not the client's
    deadline = time.monotonic() + 10
    while target.remote_processes("sleep 600") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.remote_processes("sleep 600") == []
    (stuck,) = show(ssh, info, "demo-stuck.service")
    assert stuck["ActiveState"] == "active"
    assert target.show("demo-stuck.service", "ReloadResult")["ReloadResult"] == "timeout"


def test_command_log_records_ssh_commands(target: Host, ssh: paramiko.SSHClient) -> None:
    marker = "echo 'multi\nline' # command-log-probe"
    assert run(ssh, marker)[0] == 0
    assert target.command_log()[-1] == marker


def test_restart_sshd_keeps_host_key(target: Host, info: TargetInfo) -> None:
    old = connect(info)
    target.restart_sshd(drop_sessions=True)
    with pytest.raises((paramiko.SSHException, EOFError, OSError)):
        run(old, "true", timeout=5)
    old.close()
    fresh = connect(info)  # RejectPolicy + same known_hosts: the host key did not change
    assert run(fresh, "true")[0] == 0
    fresh.close()


def test_stop_leaves_nothing_running(info: TargetInfo) -> None:
    spec = [UnitSpec("alpha.service", "Alpha"), UnitSpec("beta.service", "Beta", enabled=False)]
    bed = Testbed(["pytest-stop"], units=spec, extra_units=())
    (second,) = bed.start()  # runs alongside the session's host
    other = second.info
    assert other.address != info.address and other.units == ("alpha.service", "beta.service")
    client = connect(other)
    assert run(client, "nohup sleep 321 >/dev/null 2>&1 &")[0] == 0
    rc, out, _ = run(client, f"{other.systemctl} is-active alpha.service beta.service")
    assert out.split() == ["active", "inactive"]
    pids = second.processes()
    assert pids and second.remote_processes("sleep 321")
    run_dir = bed.run_dir
    bed.stop()
    client.close()
    assert not any(procs.is_alive(p) for p in pids)
    with pytest.raises(OSError):
        socket.create_connection((other.address, 22), timeout=1).close()
    assert not run_dir.exists()


def test_kill_9_of_the_starter_leaves_no_container(tmp_path: Path) -> None:
    script = tmp_path / "starter.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from recon.demo import Testbed
        hosts = Testbed(["k9a", "k9b"], units=[], extra_units=()).start()
        print(" ".join(str(p) for h in hosts for p in h.processes()), flush=True)
        time.sleep(600)
    """))
    starter = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in starter.stdout.readline().split()]
        assert len(pids) > 6  # systemd, journald, dbus, logind, sshd... of two hosts
    finally:
        starter.kill()  # SIGKILL: no finally, no atexit in the starter
        starter.wait()
    deadline = time.monotonic() + 5
    while any(procs.is_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in pids if procs.is_alive(p)] == []
    assert [p for p in procs.with_cmdline("systemd-nspawn") if "k9a" in procs.cmdline(p)
            or "k9b" in procs.cmdline(p)] == []


def test_busy_addresses_are_skipped() -> None:
    from recon.demo.nspawn import pick_addresses
    first = pick_addresses(3)
    assert len({a.rsplit(".", 1)[0] for a in first}) == 1 and first[0].endswith(".1")
    with socket.socket() as busy:
        busy.bind((first[0], 22))
        busy.listen()
        assert os.path.exists("/proc")  # the probe binds, so a listener anywhere is seen
        from recon.demo.runstate import _bind_free
        assert not _bind_free(first[0], 22)
