"""How ssh ended, from its stderr and exit status (OpenSSH 9's own words), and the words the
page shows for each: the code, what happened, the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from recon.config import HostConfig
from recon.terminals import endings

CHANGED = """@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
The fingerprint for the ED25519 key sent by the remote host is
SHA256:3Vx1kq0Y2t9bKp3mZ0g5Qq8o0S1w2xJ6cP8eYk0dZ1A.
Host key verification failed."""


@pytest.mark.parametrize("status, stderr, code", [
    (0, "", "shell_exited"),
    (3, "", "shell_exited"),  # the remote shell's own status, passed through by ssh
    (255, "ssh: connect to host 127.1.2.3 port 22: Connection refused", "sshd_refused"),
    (255, "ssh: connect to host 10.9.9.9 port 22: Connection timed out", "unreachable"),
    (255, "ssh: connect to host 10.9.9.9 port 22: No route to host", "unreachable"),
    (255, "Connection timed out during banner exchange\nConnection to 127.0.0.1 port 4 timed "
          "out", "sshd_not_accepting"),
    (255, "kex_exchange_identification: Connection closed by remote host\nConnection closed "
          "by 127.1.2.3 port 22", "sshd_not_accepting"),
    (255, "kex_exchange_identification: read: Connection reset by peer", "sshd_not_accepting"),
    (255, "t@127.1.2.3: Permission denied (publickey).", "auth_failed"),
    (255, CHANGED, "host_key_changed"),
    (255, "No ED25519 host key is known for 127.1.2.3 and you have requested strict "
          "checking.\nHost key verification failed.", "host_key_unknown"),
    (255, "Load key \"/k\": bad permissions", "key_unreadable"),
    (255, "Connection to 127.1.2.3 closed by remote host.", "connection_lost"),
    (255, "client_loop: send disconnect: Broken pipe", "connection_lost"),
    (255, "", "ssh_failed"),  # without the time it ran (an older wrapper): not told apart
])
def test_each_way_ssh_ends_has_its_code(status, stderr, code):
    assert endings.classify(status, stderr) == code


def test_the_wrapper_files_are_read_cleaned_and_a_running_ssh_has_no_ending(tmp_path: Path):
    prefix = tmp_path / "abc"
    err, status = endings.files(prefix)
    assert endings.read(prefix) is None  # ssh never ran or still runs
    err.write_bytes(b"ssh: connect to host h port 22: Connection refused\r\n\x1b[31mx\x07\r\n")
    status.write_text("255\n")
    ending = endings.read(prefix)
    assert ending == endings.Ending("sshd_refused", 255,
                                    "ssh: connect to host h port 22: Connection refused\n[31mx")


def test_the_words_name_the_host_its_address_the_login_and_the_new_fingerprint():
    host = HostConfig(name="web1", address="10.0.0.5", port=2222, user="recon",
                      key_path=Path("/k"), terminal_user="alice")
    refused = endings.describe("sshd_refused", 255, "Connection refused", host, "web1")
    assert refused["title"] == "Cannot connect: sshd refused the connection"
    assert "10.0.0.5:2222" in refused["message"] and "systemctl start ssh" in refused["hint"]
    auth = endings.describe("auth_failed", 255, "Permission denied (publickey).", host, "web1")
    assert "~alice/.ssh/authorized_keys" in auth["hint"]
    changed = endings.describe("host_key_changed", 255, CHANGED, host, "web1")
    fp = "SHA256:3Vx1kq0Y2t9bKp3mZ0g5Qq8o0S1w2xJ6cP8eYk0dZ1A"
    assert fp in changed["message"] and fp in changed["hint"]
    assert endings.describe(None, None, None, host, "web1") is None
    gone = endings.describe("some_future_code", 255, "", None, "web1")  # never a KeyError
    assert gone["title"] == "Cannot connect: ssh failed" and "web1" in gone["message"]


def test_a_wordless_failure_is_a_lost_connection(tmp_path: Path):
    prefix = tmp_path / "s"
    err, status = endings.files(prefix)
    err.write_text("")
    status.write_text("255 0\n")  # connected, then gone within the second, without a word
    assert endings.read(prefix).code == "connection_lost"
    status.write_text("255 40\n")  # was connected for 40 s, then gone without a word
    assert endings.read(prefix).code == "connection_lost"
    status.write_text("255\n")  # written before the wrapper recorded the time
    assert endings.read(prefix).code == "ssh_failed"
