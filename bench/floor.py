"""The floor: bare Paramiko on an already open transport (TCP_NODELAY set), running the
exact command string RECON sends -- no RECON code on the path."""

from __future__ import annotations

import socket
import subprocess
import time

import paramiko

from recon.demo.info import TargetInfo


class Floor:
    """One open transport per host; ``run(cmd)`` opens a channel, reads it all, closes it."""

    def __init__(self, infos: list[TargetInfo]):
        self.transports: dict[str, paramiko.Transport] = {}
        for info in infos:
            sock = socket.create_connection((info.address, info.port), timeout=10)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t = paramiko.Transport(sock)
            t.start_client(timeout=10)
            expected = info.host_key_line.split()[2]
            if t.get_remote_server_key().get_base64() != expected:
                raise RuntimeError(f"{info.name}: unexpected host key")
            t.auth_publickey(info.user, paramiko.Ed25519Key.from_private_key_file(
                str(info.key_path)))
            self.transports[info.name] = t

    def run(self, host: str, command: str) -> tuple[int, bytes]:
        chan = self.transports[host].open_session()
        chan.exec_command(command)
        out = bytearray()
        while True:
            data = chan.recv(1 << 20)
            if not data:
                break
            out += data
        status = chan.recv_exit_status()
        chan.close()
        return status, bytes(out)

    def close(self) -> None:
        for t in self.transports.values():
            t.close()


def ssh_argv(info: TargetInfo, known_hosts, command: str, control=None) -> list[str]:
    """The runbook's OpenSSH client call (host keys verified), optionally via ControlMaster."""
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-i", str(info.key_path), "-p", str(info.port)]
    if control is not None:
        argv += ["-o", "ControlMaster=auto", "-o", f"ControlPath={control}",
                 "-o", "ControlPersist=120"]
    return [*argv, f"{info.user}@{info.address}", command]


def ssh_run(info: TargetInfo, known_hosts, command: str, control=None) -> bytes:
    out = subprocess.run(ssh_argv(info, known_hosts, command, control), capture_output=True,
                         timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"ssh exited {out.returncode}: {out.stderr[-300:]!r}")
    return out.stdout


def stop_master(info: TargetInfo, control) -> None:
    subprocess.run(["ssh", "-o", f"ControlPath={control}", "-O", "exit",
                    f"{info.user}@{info.address}"], capture_output=True, timeout=10)


def wait_command(host, predicate, timeout: float = 10) -> str:
    """The newest command in the host's command log that satisfies ``predicate``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for cmd in reversed(host.command_log()):
            if predicate(cmd):
                return cmd
        time.sleep(0.05)
    raise TimeoutError("command not seen in the host's command log")
