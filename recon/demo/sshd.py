"""Accounts, keys and a private OpenSSH daemon for a demo target.

Facts this relies on (see /work/shared/TESTBED-NOTES.md): sshd needs an own config with
no Include, a 0600 host key, absolute ``-f``/``-E`` paths and an existing ``/run/sshd``;
``useradd`` leaves the account locked, which ``UsePAM no`` then enforces even for keys.
"""

from __future__ import annotations

import errno
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from recon.demo import procs

SSHD = "/usr/sbin/sshd"
_account_lock = threading.Lock()


def _user_exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def _password_field(user: str) -> str:
    with open("/etc/shadow") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == user:
                return fields[1]
    return ""


def _retry(args: list[str], attempts: int = 10) -> None:
    # Another process (a parallel test run) may hold the /etc/passwd lock for a moment.
    for attempt in range(attempts):
        result = subprocess.run(args, capture_output=True, text=True)
        if result.returncode == 0:
            return
        time.sleep(0.1 * (attempt + 1))
    raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")


def ensure_user(user: str, *, login_shell: str, home: bool = True) -> None:
    """Create ``user`` if missing, unlock it without a password, and set its login shell."""
    with _account_lock:
        args = ["useradd", "--shell", login_shell, "--user-group"]
        args += ["--create-home"] if home else ["--system", "--no-create-home",
                                                "--home-dir", "/nonexistent"]
        for attempt in range(10):
            if _user_exists(user):
                break
            result = subprocess.run([*args, user], capture_output=True, text=True)
            if result.returncode in (0, 9):  # 9: created meanwhile by another process
                break
            time.sleep(0.1 * (attempt + 1))  # /etc/passwd locked by a parallel run
        else:
            raise RuntimeError(f"useradd {user} failed: {result.stderr.strip()}")
        if pwd.getpwnam(user).pw_shell != login_shell or _password_field(user) != "*":
            # '*' unlocks for key logins while matching no password ('!' would block sshd).
            _retry(["usermod", "-p", "*", "-s", login_shell, user])
    if home:
        entry = pwd.getpwnam(user)
        ssh_dir = Path(entry.pw_dir) / ".ssh"
        ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(ssh_dir, entry.pw_uid, entry.pw_gid)
        ssh_dir.chmod(0o700)


def ensure_keypair(path: Path, comment: str) -> str:
    """Create an ed25519 key pair at ``path`` (0600) unless present; return the public line."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                        "-f", str(path)], check=True, capture_output=True)
    path.chmod(0o600)
    return path.with_suffix(".pub").read_text().strip()


def free_port() -> int:
    """A currently unused TCP port on 127.0.0.1 (the kernel's ephemeral range)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_config(*, port: int, user: str, host_key: Path, pid_file: Path,
                  authorized_keys: Path, env: dict[str, str]) -> str:
    """sshd_config of one target: loopback only, key-only login of ``user``."""
    setenv = " ".join(f"{k}={v}" for k, v in env.items())
    return f"""# RECON demo target sshd (generated; no Include of /etc/ssh on purpose)
Port {port}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
AllowUsers {user}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
StrictModes yes
MaxStartups 100:30:200
MaxSessions 10
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
LogLevel VERBOSE
SetEnv {setenv}
Subsystem sftp internal-sftp
"""


class SshDaemon:
    """One sshd process, identified by its config and PidFile (never by name)."""

    def __init__(self, config: Path, pid_file: Path, log_file: Path, port: int) -> None:
        self.config, self.pid_file, self.log_file, self.port = config, pid_file, log_file, port
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> int:
        """Start sshd and return its pid once it sends an SSH banner.

        Raises ``OSError(EADDRINUSE)`` if the port is taken, ``RuntimeError`` otherwise.
        """
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privsep dir; /run may be fresh
        os.chmod("/run/sshd", 0o755)
        self.pid_file.unlink(missing_ok=True)
        self.log_file.unlink(missing_ok=True)  # so the readiness check sees this run's errors
        # -D keeps it our child (reaped by us, not by a PID 1 that may not reap);
        # a new session keeps a Ctrl-C aimed at the test runner from killing it half-way.
        self._proc = subprocess.Popen(
            [SSHD, "-D", "-f", str(self.config), "-E", str(self.log_file)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
                if "Address already in use" in log:
                    raise OSError(errno.EADDRINUSE, f"port {self.port} already in use")
                raise RuntimeError(f"sshd exited {self._proc.returncode}: {log.strip()}")
            if self._answers():
                return self._proc.pid
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"sshd on port {self.port} sent no banner within {timeout}s")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def pid(self) -> int | None:
        """Pid of the running listener, verified against its command line (pids get reused)."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = self._proc.pid if self._proc and self._proc.poll() is None else None
        if pid and procs.is_alive(pid) and str(self.config) in procs.cmdline(pid):
            return pid
        return None

    def stop(self, *, drop_sessions: bool = True) -> None:
        """Stop the listener; with ``drop_sessions`` also the per-connection processes
        (and the commands they run), as when a host goes down."""
        pid = self.pid()
        if pid:
            sessions = procs.descendants(pid) if drop_sessions else []
            procs.terminate([pid])
            procs.terminate(sessions, grace=1.0)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        self.pid_file.unlink(missing_ok=True)


def remove_tree(path: Path) -> None:
    """rmtree that tolerates a path already gone."""
    shutil.rmtree(path, ignore_errors=True)
