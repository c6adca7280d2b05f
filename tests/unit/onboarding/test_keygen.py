"""The runbook's first step: `recon keygen` makes the dashboard's private key once (0600) and
prints its public line."""

from __future__ import annotations

import os
import stat

import paramiko

from recon.onboarding.steps import keygen


def test_keygen_creates_a_private_key_once_and_prints_the_public_line(tmp_path):
    path = tmp_path / "id_ed25519"
    line = keygen(path)
    assert line.startswith("ssh-ed25519 AAAA") and "recon@" in line
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert paramiko.PKey.from_path(str(path)).get_name() == "ssh-ed25519"
    assert keygen(path) == line  # never overwritten
