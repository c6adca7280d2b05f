"""The host side of the scale bench: ONE real systemd host standing in for N, and dead hosts.

One container (systemd in nspawn, :class:`recon.demo.nspawn.Testbed`) whose sshd listens on
``0.0.0.0:PORT`` (``MaxStartups 2000:30:4000``, ``MaxSessions 20``, ``UsePAM no``,
``LogLevel VERBOSE``), with D-Bus's per-user limits lifted (N ``dbus-monitor`` clients of one
user exceed the default 256) and journald's rate limit off (sshd's log is the bench's count
of logins and commands). Every ``127.77.X.Y:PORT`` reaches it, so N host entries are N
distinct endpoints to RECON (TESTBED-NOTES: "Many hosts on one machine").

Dead hosts: ``refuse`` entries point at ``127.78.X.Y:PORT`` (the same real sshd) with a client
key it does not accept -- a refused login, the issue's case; ``close`` entries point at a
counting listener of ours that accepts and closes at once.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from recon.demo import procs
from recon.demo.host import Host
from recon.demo.info import TargetInfo
from recon.demo.nspawn import Testbed, free_port, keypair
from recon.demo.tree import LOGIN_USER, TERMINAL_USER

from .fleet import BENCH_UNITS

SSHD = """# RECON scale bench: one sshd for N host entries (every 127/8 address reaches it)
Port {port}
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
AllowUsers {users}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
StrictModes yes
MaxStartups 2000:30:4000
MaxSessions 20
UseDNS no
PrintLastLog no
X11Forwarding no
LogLevel VERBOSE
"""
DBUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <limit name="max_connections_per_user">100000</limit>
  <limit name="max_completed_connections">100000</limit>
  <limit name="max_incomplete_connections">10000</limit>
  <limit name="max_match_rules_per_connection">100000</limit>
</busconfig>
"""
JOURNALD = "[Journal]\nRateLimitIntervalSec=0\nRateLimitBurst=0\n"

# sshd at LogLevel VERBOSE: one line per TCP connection (with the address it came in on) and
# one per session (exec) on it, both naming the client's source port.
_CONN = re.compile(r"Connection from \S+ port (\d+) on (\S+) port \d+")
_SESSION = re.compile(r"Starting session: command for \S+ from \S+ port (\d+)")


class _OneSshdTestbed(Testbed):
    """A Testbed whose sshd drop-in is the scale one (the rest as every demo host)."""

    def _prepare_host(self, run, name, address, client_pub, owners):  # noqa: ANN001
        info = super()._prepare_host(run, name, address, client_pub, owners)
        (run / name / "sshd.conf").write_text(
            SSHD.format(port=self.port, users=f"{LOGIN_USER} {TERMINAL_USER}"))
        return info


@dataclass
class ScaleHost:
    host: Host
    nspawn_pid: int
    port: int

    @property
    def key_line(self) -> str:
        """``TYPE BASE64`` of the host key."""
        return " ".join(self.host.info.host_key_line.split()[1:3])

    def container_pids(self) -> list[int]:
        """The systemd-nspawn process tree (the container and everything in it)."""
        return [self.nspawn_pid, *procs.descendants(self.nspawn_pid)]

    def sshd_log(self, since: float, until: float | None = None) -> list[str]:
        """sshd's journal lines (``EPOCH message``) between two epoch times."""
        argv = ["journalctl", "-q", "--no-pager", "-o", "short-unix", "-t", "sshd",
                f"--since=@{since:.3f}"] + ([f"--until=@{until:.3f}"] if until else [])
        return self.host.run(argv, timeout=120).stdout.splitlines()

    def end_sessions(self) -> int:
        """SIGKILL, by pid, what the login user still runs in the container (a watcher's
        ``dbus-monitor`` outlives its closed channel until its next write), so one run's
        leftovers do not load the next; returns how many."""
        uid = int(self.host.run(["id", "-u", LOGIN_USER]).stdout)
        killed = 0
        for p in self.container_pids():
            if procs.uid(p) == uid:
                try:
                    os.kill(p, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
        return killed

    def change(self, action: str, unit: str) -> None:
        self.host.systemctl(action, unit)


@contextmanager
def scale_host(log=print) -> Iterator[ScaleHost]:  # noqa: ANN001
    """Boot the one container; shut it down afterwards, whatever happened."""
    port = free_port()
    bed = _OneSshdTestbed(["scale"], units=BENCH_UNITS, extra_units=(), port=port, log=log)
    try:
        (host,) = bed.start()
        host.run(["sh", "-c", "cat > /etc/dbus-1/system.d/zz-recon-scale.conf"], input=DBUS)
        host.run(["systemctl", "reload", "dbus.service"])
        host.run(["mkdir", "-p", "/etc/systemd/journald.conf.d"])
        host.run(["sh", "-c", "cat > /etc/systemd/journald.conf.d/zz-recon-scale.conf"],
                 input=JOURNALD)
        host.run(["systemctl", "restart", "systemd-journald.service"])
        # ~4 tasks per host entry (sshd x2, timeout, dbus-monitor) pass the default
        # TasksMax (15 % of pid_max: 4915 here) near 1,000 entries.
        host.run(["systemctl", "set-property", "--runtime", "ssh.service", "TasksMax=infinity"],
                 check=False)
        yield ScaleHost(host, host.proc.pid, port)
    finally:
        bed.stop()


def address(block: int, i: int) -> str:
    """The i-th address of ``127.<block>.0.1`` upwards (250 per /24)."""
    return f"127.{block}.{i // 250}.{i % 250 + 1}"


def targets(sh: ScaleHost, n: int, *, prefix: str = "h", block: int = 77,
            port: int | None = None, key: Path | None = None) -> list[TargetInfo]:
    """``n`` host entries ``127.<block>.X.Y:PORT`` for the one host."""
    base = sh.host.info
    return [dataclasses.replace(base, name=f"{prefix}{i}", address=address(block, i),
                                port=port or sh.port, key_path=key or base.key_path)
            for i in range(n)]


def refused_key(workdir: Path) -> Path:
    """A client key the host does not accept (its login is refused)."""
    path = workdir / "refused" / "id_ed25519"
    keypair(path, "refused@scale")
    return path


def known_hosts(path: Path, entries: list[TargetInfo], key_line: str) -> Path:
    """One ``[addr]:port TYPE KEY`` line per entry (RECON's lookup has no wildcards)."""
    from recon.ssh.hostkeys import known_hosts_name
    path.write_text("".join(f"{known_hosts_name(t.address, t.port)} {key_line}\n"
                            for t in entries))
    return path


class HostProbe:
    """The host side's own health while RECON runs, from outside RECON: every ``every`` s a
    fresh TCP connection to an address no entry uses (time to sshd's banner), then a fresh
    Paramiko login and one ``systemctl show`` on it. Slow or failing probes mean the one
    container is the bottleneck; fast ones mean RECON is."""

    def __init__(self, sh: ScaleHost, every: float = 5.0) -> None:
        self.sh, self.every = sh, every
        self.banner_ms: list[float] = []
        self.login_cmd_ms: list[float] = []
        self.failed: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="scale-probe")

    def __enter__(self) -> HostProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        import paramiko

        info, i = self.sh.host.info, 0
        while not self._stop.wait(self.every):
            addr = f"127.77.255.{i % 250 + 1}"
            i += 1
            try:
                t0 = time.perf_counter()
                with socket.create_connection((addr, self.sh.port), timeout=30) as s:
                    s.recv(64)
                    self.banner_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                client = paramiko.SSHClient()
                client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # ours, loopback
                client.connect(addr, self.sh.port, username=info.user,
                               key_filename=str(info.key_path), look_for_keys=False,
                               allow_agent=False, timeout=30, banner_timeout=30,
                               auth_timeout=30)
                try:
                    _, out, _ = client.exec_command(
                        "systemctl show -p ActiveState bench-0.service", timeout=30)
                    out.read()
                finally:
                    client.close()
                self.login_cmd_ms.append((time.perf_counter() - t0) * 1000)
            except Exception as exc:  # noqa: BLE001 - counted, by kind
                self.failed[type(exc).__name__] += 1

    def summary(self) -> dict:
        from .stats import stats
        return {"banner": stats(self.banner_ms), "fresh_login_and_show": stats(self.login_cmd_ms),
                "failed": dict(self.failed), "every_s": self.every}


class CountingListener:
    """``0.0.0.0:port``: accepts, notes the address it came in on, closes at once."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.accepts: list[tuple[float, str]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="scale-listener")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepts.append((time.time(), conn.getsockname()[0]))
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        self._thread.join(2)


def parse_sshd(lines: list[str]) -> tuple[list[tuple[float, str, str]], list[tuple[float, str]]]:
    """(time, source port, address it came in on) per connection; (time, source port) per
    session started."""
    conns, sessions = [], []
    for line in lines:
        stamp = line.split(" ", 1)[0]
        try:
            t = float(stamp)
        except ValueError:
            continue
        if m := _CONN.search(line):
            conns.append((t, m.group(1), m.group(2)))
        elif m := _SESSION.search(line):
            sessions.append((t, m.group(1)))
    return conns, sessions


def per_address(conns: list[tuple[float, str, str]], sessions: list[tuple[float, str]],
                t0: float, t1: float) -> tuple[Counter, Counter]:
    """Connections and sessions (commands) per address in [t0, t1). A session is credited
    to the address of the latest connection from its source port before it."""
    by_port: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for t, sport, addr in sorted(conns):
        by_port[sport].append((t, addr))
    logins = Counter(addr for t, _, addr in conns if t0 <= t < t1)
    commands: Counter = Counter()
    for t, sport in sessions:
        if not t0 <= t < t1:
            continue
        owners = [a for ct, a in by_port.get(sport, ()) if ct <= t]
        commands[owners[-1] if owners else "?"] += 1
    return logins, commands
