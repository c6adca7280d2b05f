"""The runbook's way, for comparison: a fresh OpenSSH `ssh` process per call, parsing the
text of `systemctl status` (what RECON replaces). Host keys are still verified here."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from recon.demo.info import TargetInfo


def ssh_argv(info: TargetInfo, known_hosts: Path, command: list[str],
             control: Path | None = None) -> list[str]:
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-i", str(info.key_path), "-p", str(info.port)]
    if control is not None:
        argv += ["-o", "ControlMaster=auto", "-o", f"ControlPath={control}",
                 "-o", "ControlPersist=60"]
    return [*argv, f"{info.user}@{info.address}", shlex.join(command)]


def runbook_status(info: TargetInfo, known_hosts: Path, unit: str,
                   control: Path | None = None) -> bool:
    """One status check the runbook's way; returns whether it reads as running."""
    # Real systemd answers `status` without sudo (only the journal lines need rights), and the
    # scoped sudoers drop-in grants no `status` rule.
    cmd = [info.systemctl, "status", unit]
    out = subprocess.run(ssh_argv(info, known_hosts, cmd, control), capture_output=True,
                         text=True, timeout=30)
    return "active (running)" in out.stdout


def stop_master(info: TargetInfo, known_hosts: Path, control: Path) -> None:
    subprocess.run(["ssh", "-o", f"ControlPath={control}", "-O", "exit",
                    f"{info.user}@{info.address}"], capture_output=True, timeout=10)
