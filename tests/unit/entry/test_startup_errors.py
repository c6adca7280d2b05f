"""Starting with a bad or incomplete config (issue 12): the CLI and the server print only the
config's messages and exit non-zero, a key with a passphrase is refused at start, all without a
traceback; and `recon keygen` works before the key that the config names exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

from recon.onboarding.steps import keygen

# The flask CLI of the Python running the tests (.venv/bin/flask exists only for VENV=.venv).
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def run_cli(args, tmp_path, config: Path, **env):
    return subprocess.run(
        FLASK + args, cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "RECON_CONFIG": str(config),
             "RECON_DATABASE_URI": f"sqlite:///{tmp_path / 'cli.db'}", **env})


def minimal(tmp_path, **host) -> Path:
    lines = ["[hosts.web1]", 'address = "10.0.0.5"', 'user = "recon"', 'key = "id_ed25519"']
    lines += [f"{k} = {v}" for k, v in host.items()]
    lines += ["", "[[services]]", 'slug = "web"', 'host = "web1"', 'unit = "nginx"']
    path = tmp_path / "recon.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_keygen_works_when_the_config_already_names_the_missing_key(tmp_path):
    config = minimal(tmp_path)
    out = run_cli(["recon", "keygen", "--path", str(tmp_path / "id_ed25519")], tmp_path, config)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ssh-ed25519 ")
    assert (tmp_path / "id_ed25519").stat().st_mode & 0o777 == 0o600


def test_a_bad_config_prints_only_the_messages_and_exits_non_zero(tmp_path):
    keygen(tmp_path / "id_ed25519")
    config = minimal(tmp_path, port=0)
    (tmp_path / "recon.toml").write_text(config.read_text() + "[settings]\n"
                                         "log_stream_keepalive_seconds = 0\n")
    for cmd in (FLASK + ["recon", "users", "list"],
                [sys.executable, "-m", "recon.entry.serve", "--bind", "127.0.0.1:1"]):
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "RECON_CONFIG": str(config),
                                  "RECON_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
        assert out.returncode != 0, cmd
        assert "Traceback" not in out.stderr + out.stdout, out.stderr
        assert "hosts.web1.port: must be 1-65535" in out.stderr
        assert "settings.log_stream_keepalive_seconds" in out.stderr


def test_a_locked_key_is_refused_at_start_without_a_traceback(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        PrivateFormat,
    )
    key = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.OpenSSH, BestAvailableEncryption(b"secret-passphrase"))
    (tmp_path / "id_ed25519").write_bytes(key)
    (tmp_path / "id_ed25519").chmod(0o600)
    config = minimal(tmp_path)
    out = subprocess.run([sys.executable, "-m", "recon.entry.serve", "--bind", "127.0.0.1:1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "RECON_CONFIG": str(config),
                              "RECON_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "passphrase" in out.stderr
