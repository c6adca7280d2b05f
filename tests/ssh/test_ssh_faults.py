"""Each SSH fault against the real sshd: the right typed error, within its bound; remote
commands run under LC_ALL=C so a sudo refusal is recognised by its message."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import paramiko
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from helpers import Tarpit, free_port

from recon.config import HostConfig
from recon.ssh import (
    AuthFailed,
    CommandTimeout,
    ConnectTimeout,
    Executor,
    HostKeyChanged,
    HostKeyStore,
    HostKeyUnknown,
    RemoteError,
    Unreachable,
)
from recon.ssh.errors import is_sudo_refusal
from recon.ssh.executor import OUTPUT_CAP, remote_command


def host_for(info, **kw) -> HostConfig:
    base = HostConfig(name=info.name, address=info.address, port=info.port, user=info.user,
                      key_path=info.key_path, systemctl=info.systemctl,
                      journalctl=info.journalctl, connect_timeout=2, command_timeout=5)
    return replace(base, **kw)


@pytest.fixture
def known_hosts(tmp_path, target_info):
    path = tmp_path / "known_hosts"
    path.write_text(target_info.host_key_line + "\n")
    return path


@pytest.fixture
def executor(known_hosts):
    ex = Executor(HostKeyStore(known_hosts))
    yield ex
    ex.close_all()


def test_a_command_runs_and_reports_exit_code_and_both_streams(executor, target_info):
    host = host_for(target_info)
    result = executor.run(host, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_arguments_are_never_interpreted_by_a_shell(executor, target_info, tmp_path):
    host = host_for(target_info)
    result = executor.run(host, ["echo", "$(id)", "; touch /tmp/recon-pwned", "`id`"])
    assert result.stdout == "$(id) ; touch /tmp/recon-pwned `id`\n"
    assert remote_command(["a b", "$x"], None) == "LC_ALL=C 'a b' '$x'"
    assert remote_command(["true"], 5).startswith("LC_ALL=C timeout ")


def test_the_transport_is_reused_across_commands(executor, target_info):
    host = host_for(target_info)
    executor.run(host, ["true"])
    transport = executor.connection(host)._transport
    executor.run(host, ["true"])
    assert executor.connection(host)._transport is transport


def test_large_output_on_both_streams_does_not_deadlock_and_is_capped(executor, target_info):
    host = host_for(target_info)
    script = "head -c 3000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero | tr '\\0' b >&2"
    result = executor.run(host, ["sh", "-c", script])
    assert result.exit_code == 0 and result.truncated
    assert len(result.stdout) == OUTPUT_CAP and len(result.stderr) == OUTPUT_CAP


def test_closed_port_is_unreachable_at_once(executor, target_info):
    host = host_for(target_info, port=free_port())
    started = time.monotonic()
    with pytest.raises(Unreachable):
        executor.run(host, ["true"])
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("banner", [False, True], ids=["silent", "banner-then-stall"])
def test_a_stalled_handshake_is_a_timeout_paid_once_then_answered_at_once(executor, target_info,
                                                                          banner):
    pit = Tarpit(banner=banner)
    host = host_for(target_info, address="127.0.0.1", port=pit.port, connect_timeout=1.5)
    try:
        started = time.monotonic()
        with pytest.raises(ConnectTimeout) as caught:
            executor.run(host, ["true"])
        # bound: connect_timeout for the banner/key exchange, plus scheduling slack
        assert time.monotonic() - started < 1.5 + 1.0
        phase = "handshake (key exchange)" if banner else "banner"
        assert caught.value.code == "timeout" and f"no SSH {phase}" in caught.value.message
        # concurrent and later callers in the back-off window do not pay it again
        errors: list[Exception] = []

        def call() -> None:
            try:
                executor.run(host, ["true"])
            except RemoteError as exc:
                errors.append(exc)

        started = time.monotonic()
        callers = [threading.Thread(target=call) for _ in range(8)]
        for t in callers:
            t.start()
        for t in callers:
            t.join(10)
        assert time.monotonic() - started < 0.5  # bound: answered from the breaker
        assert [e.code for e in errors] == ["host_down"] * 8
        assert errors[0].to_dict()["cause"] == "timeout" and "down since" in errors[0].message
        assert all(e.retry_after in (1, 2) for e in errors)  # the first back-off is 1 s
    finally:
        pit.close()


def test_a_changed_host_key_is_refused_as_changed(tmp_path, target_info):
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    name = target_info.host_key_line.split()[0]
    path = tmp_path / "kh"
    path.write_text(f"{name} {raw}\n")
    ex = Executor(HostKeyStore(path))
    with pytest.raises(HostKeyChanged, match="changed"):
        ex.run(host_for(target_info), ["true"])


def test_an_unknown_host_key_is_refused_as_unknown_and_never_added(tmp_path, target_info):
    path = tmp_path / "empty_known_hosts"
    path.write_text("")
    ex = Executor(HostKeyStore(path))
    with pytest.raises(HostKeyUnknown, match="SHA256:"):
        ex.run(host_for(target_info), ["true"])
    assert path.read_text() == ""


def test_a_pinned_host_key_is_trusted_without_known_hosts(tmp_path, target_info):
    pinned = " ".join(target_info.host_key_line.split()[1:3])
    ex = Executor(HostKeyStore(tmp_path / "none"))
    assert ex.run(host_for(target_info, host_key=pinned), ["true"]).ok
    ex.close_all()


def test_a_key_the_host_does_not_accept_is_auth_failed(executor, target_info, tmp_path):
    key = paramiko.RSAKey.generate(2048)
    path = tmp_path / "wrong_key"
    key.write_private_key_file(str(path))
    with pytest.raises(AuthFailed) as info:
        executor.run(host_for(target_info, key_path=path), ["true"])
    assert "authorized_keys" in info.value.hint


def test_a_hung_command_times_out_and_is_ended_on_the_host(executor, target, target_info):
    host = host_for(target_info, command_timeout=1.5)
    marker = "recon-hang-test-4711"
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        executor.run(host, ["sh", "-c", f"sleep 100; echo {marker}"])
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 1.5 + 3.0
    deadline = time.monotonic() + 5
    while target.remote_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.remote_processes(marker) == []


def test_a_dead_transport_is_replaced_transparently(executor, target, target_info):
    host = host_for(target_info)
    executor.run(host, ["true"])
    target.restart_sshd(drop_sessions=True)
    deadline = time.monotonic() + 3
    while executor.connection(host).is_connected() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert executor.run(host, ["echo", "back"]).stdout == "back\n"


def test_many_parallel_commands_share_one_host_without_refusals(executor, target_info):
    host = host_for(target_info)
    results: list = []

    def one(i: int):
        results.append(executor.run(host, ["echo", str(i)]).stdout.strip())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=int) == [str(i) for i in range(24)]


def test_remote_commands_run_under_lc_all_c_and_refusals_are_recognised_once(app, runtime):
    host = runtime.config.hosts["demo"]
    result = runtime.executor.run(host, ["sh", "-c", "echo $LC_ALL"])
    assert result.stdout.strip() == "C"
    refused = runtime.executor.run(host, [host.sudo, "-n", "/bin/true"])
    assert is_sudo_refusal(refused.exit_code, refused.stderr)
    assert not is_sudo_refusal(0, "a password is required")
