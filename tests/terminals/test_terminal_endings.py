"""A terminal that cannot connect, or whose connection drops, says why -- against the real
sshd of the target: sshd stopped (refused), the key refused, the host key changed or unknown,
a port that never speaks SSH (banner timeout), the session dropped by the host. Each ends
with the stable code, ssh's own words and the fix, in the API and on the closed page."""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path

import pytest
from helpers import Tarpit
from terminal_fixtures import LiveServer, attach, open_terminal

from recon.demo.info import TargetInfo
from recon.ssh.hostkeys import known_hosts_name


def _ended(live: LiveServer, token: str, sess: dict, timeout: float = 20) -> dict:
    """The session once closed (it closes as soon as ttyd ends the WebSocket)."""
    deadline = time.monotonic() + timeout
    while True:
        _, body, _ = live.request("GET", f"/api/terminals/{sess['id']}", token)
        if body["session"]["closed_at"] or time.monotonic() > deadline:
            return body["session"]
        time.sleep(0.1)


def _connect_and_end(make_app, infos: list[TargetInfo], **kwargs) -> tuple[dict, bytes, bytes]:
    """Open a terminal on the first host, attach like the page, wait for its end; returns
    the closed session, what the terminal showed and the closed page."""
    app = make_app(infos, monitor=False, **kwargs)
    token = app.config["TEST_TOKENS"]["operator"]
    live = LiveServer(app)
    try:
        sess = open_terminal(live, token, host=infos[0].name)
        client = attach(live, token, sess)
        client.wait_closed(20)
        closed = _ended(live, token, sess)
        _, page, _ = live.request("GET", sess["url"], token)
        return closed, bytes(client.output), page
    finally:
        live.stop()


def _other_key_line(info: TargetInfo, tmp_path: Path) -> str:
    key = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    kind, blob = key.with_suffix(".pub").read_text().split()[:2]
    return f"{known_hosts_name(info.address, info.port)} {kind} {blob}\n"


def test_a_stopped_sshd_says_connection_refused_and_how_to_start_it(make_app, target_info,
                                                                    target, term_env):
    target.systemctl("stop", "ssh.service")
    try:
        closed, shown, page = _connect_and_end(make_app, [target_info])
    finally:
        target.systemctl("start", "ssh.service")
        target.wait_for_ssh(time.monotonic() + 15)
    ended = closed["ended"]
    assert closed["close_reason"] == "shell_exited" and ended["code"] == "sshd_refused"
    assert ended["exit_status"] == 255 and "Connection refused" in ended["detail"]
    assert "systemctl start ssh" in ended["hint"]
    assert f"{target_info.address}:{target_info.port}" in ended["message"]
    assert b"Connection refused" in shown  # the terminal itself showed ssh's words too
    assert b"sshd refused the connection" in page and b"systemctl start ssh" in page
    assert b'data-code="sshd_refused"' in page and b"Disconnected (shell exited)" not in page


def test_a_refused_key_says_auth_failed_and_where_the_key_goes(make_app, target_info,
                                                               term_env, tmp_path):
    key = tmp_path / "not_installed"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    closed, _, _ = _connect_and_end(
        make_app, [dataclasses.replace(target_info, key_path=key)])
    ended = closed["ended"]
    assert ended["code"] == "auth_failed", ended
    assert "Permission denied (publickey" in ended["detail"]
    assert f"~{target_info.terminal_user}/.ssh/authorized_keys" in ended["hint"]


def test_a_changed_host_key_says_so_with_the_new_fingerprint(make_app, target_info,
                                                             term_env, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text(_other_key_line(target_info, tmp_path))
    closed, _, _ = _connect_and_end(make_app, [target_info], known_hosts=known)
    ended = closed["ended"]
    assert ended["code"] == "host_key_changed", ended
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in ended["detail"]
    real = subprocess.run(["ssh-keygen", "-lf", "-"], input=target_info.host_key_line,
                          capture_output=True, text=True).stdout.split()[1]
    assert real in ended["hint"] and real in ended["message"]  # the key the host sent


def test_an_unknown_host_key_says_unknown_not_changed(make_app, target_info, term_env,
                                                      tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    closed, _, _ = _connect_and_end(make_app, [target_info], known_hosts=known)
    assert closed["ended"]["code"] == "host_key_unknown", closed["ended"]
    assert "ssh-keygen -lf" in closed["ended"]["hint"]


def test_a_port_that_never_speaks_ssh_says_sshd_is_not_accepting(make_app, target_info,
                                                                 term_env):
    pit = Tarpit()
    try:
        stalled = dataclasses.replace(target_info, address="127.0.0.1", port=pit.port)
        closed, _, _ = _connect_and_end(make_app, [stalled], connect_timeout=1)
    finally:
        pit.close()
    ended = closed["ended"]
    assert ended["code"] == "sshd_not_accepting", ended
    assert "banner exchange" in ended["detail"] and "MaxStartups" in ended["hint"]


@pytest.mark.parametrize("how", ["sshd_drops_sessions"])
def test_a_session_the_host_drops_says_the_connection_dropped(make_app, target_info, target,
                                                              term_env, how):
    app = make_app([target_info], monitor=False)
    token = app.config["TEST_TOKENS"]["operator"]
    live = LiveServer(app)
    try:
        sess = open_terminal(live, token)
        client = attach(live, token, sess)
        client.read_until(b"$ ")
        target.restart_sshd(drop_sessions=True)
        client.wait_closed(20)
        ended = _ended(live, token, sess)["ended"]
    finally:
        live.stop()
    assert ended["code"] == "connection_lost", ended
    assert "closed by remote host" in ended["detail"]
