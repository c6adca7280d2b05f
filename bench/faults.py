"""Bad hosts for the fault rows: a TCP tarpit (with or without an SSH banner) and a real
host whose sshd processes are all stopped with SIGSTOP (and resumed with SIGCONT)."""

from __future__ import annotations

import os
import signal
import socket
import threading

from recon.demo.host import Host
from recon.demo.procs import cmdline, comm


class Tarpit:
    """Accepts TCP and never speaks SSH; with ``banner`` it sends an SSH banner first."""

    def __init__(self, banner: bool = False) -> None:
        self.banner = banner
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.banner:
                try:
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 then-silence\r\n")
                except OSError:
                    pass
            self._held.append(conn)

    def close(self) -> None:
        self._closed = True
        self.sock.close()
        for conn in self._held:
            conn.close()


def sshd_pids(host: Host) -> list[int]:
    """Machine pids of every sshd process of the host (listener and sessions)."""
    return [p for p in host.processes() if comm(p) == "sshd" or cmdline(p).startswith("sshd")]


def signal_sshd(host: Host, sig: int) -> int:
    """Send ``sig`` to all of the host's sshd processes; returns how many got it."""
    sent = 0
    for pid in sshd_pids(host):
        try:
            os.kill(pid, sig)
            sent += 1
        except ProcessLookupError:
            pass
    return sent


def hang(host: Host) -> int:
    return signal_sshd(host, signal.SIGSTOP)


def resume(host: Host) -> int:
    return signal_sshd(host, signal.SIGCONT)
