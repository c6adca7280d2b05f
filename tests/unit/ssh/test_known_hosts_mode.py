"""Trusting a host writes RECON's known_hosts 0600 (its own instance-file check calls
anything looser insecure), whether the file is new or was left looser. No host needed."""

from __future__ import annotations

import os
import stat

import paramiko

from recon.ssh.hostkeys import HostKeyStore


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_trusted_key_is_written_to_a_0600_known_hosts(tmp_path):
    old = os.umask(0o022)
    try:
        store = HostKeyStore(tmp_path / "instance" / "known_hosts")
        store.add("192.0.2.7", 22, paramiko.RSAKey.generate(1024))
        assert _mode(store.path) == 0o600
        store.path.chmod(0o644)  # a copy made by hand
        store.add("192.0.2.8", 2222, paramiko.RSAKey.generate(1024))
        assert _mode(store.path) == 0o600
        assert len(store.path.read_text().splitlines()) == 2
    finally:
        os.umask(old)
