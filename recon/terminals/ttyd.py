"""The ttyd processes: command line, spawn, readiness, identity checks, termination, reaping.

ttyd listens only on a UNIX socket in a 0700 directory and requires a Basic credential;
the command it runs is ``ssh`` with host and user from validated config, host keys checked
against RECON's known_hosts, in a clean environment. Pids are never trusted on their own:
a signal goes through a pidfd opened *before* checking that ``/proc/<pid>/cmdline`` names
the session's socket, so a recycled pid can never be hit.
"""

from __future__ import annotations

import base64
import errno
import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from recon.config import HostConfig
from recon.core.children import spawn_bound
from recon.core.errors import ReconError
from recon.core.waits import wait_readable
from recon.terminals.endings import SSH_WRAPPER

SUN_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux
CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
             "TERM": "xterm-256color"}


class TtydError(ReconError):
    """ttyd could not be started (missing binary, bad socket path, no readiness); 503 means
    terminals are unavailable here (``ttyd_unavailable``), anything else a failed start."""

    def __init__(self, message: str, hint: str, status: int = 502):
        code = "ttyd_unavailable" if status == 503 else "terminal_start_failed"
        super().__init__(message, hint=hint, status=status, code=code)


def resolve_ttyd(configured: str) -> str:
    """Absolute path of ttyd: the setting, else ``$TTYD_PATH``, else ``ttyd`` on PATH."""
    name = configured or os.environ.get("TTYD_PATH") or "ttyd"
    found = shutil.which(name)
    if not found:
        raise TtydError(f"ttyd not found ({name!r})",
                        "Install ttyd 1.7 (your distribution's package or its release binary) "
                        "and set TTYD_PATH or settings.ttyd_path if it is not on PATH.", 503)
    return os.path.abspath(found)


def ssh_command(host: HostConfig, known_hosts: Path, pinned_file: Path | None,
                ending_prefix: Path, *, login: str | None = None,
                key_file: Path | None = None) -> list[str]:
    """The argv ttyd runs: ssh to ``host`` as ``login`` (default: the shared terminal_user)
    with ``key_file`` (default: the dashboard's key), verifying the host key, in
    :data:`.endings.SSH_WRAPPER`, which records how ssh ended at ``ending_prefix``."""
    ssh = shutil.which("ssh") or "/usr/bin/ssh"
    paths = [str(p) for p in (known_hosts, pinned_file) if p is not None]
    if any(c.isspace() or c == "%" for path in paths for c in path):
        # ssh splits UserKnownHostsFile at whitespace and expands %-tokens in it.
        raise TtydError(f"known_hosts path unusable by ssh: {known_hosts}",
                        "Keep RECON's known_hosts and run dir on paths without spaces or '%'.",
                        500)
    files = " ".join(paths)
    options = {
        "BatchMode": "yes", "IdentitiesOnly": "yes", "IdentityAgent": "none",
        "StrictHostKeyChecking": "yes", "UserKnownHostsFile": files,
        "GlobalKnownHostsFile": "none", "UpdateHostKeys": "no",
        "PreferredAuthentications": "publickey", "PasswordAuthentication": "no",
        "KbdInteractiveAuthentication": "no", "ForwardAgent": "no", "ForwardX11": "no",
        "ClearAllForwardings": "yes", "PermitLocalCommand": "no",
        "ServerAliveInterval": "15", "ServerAliveCountMax": "3",
        "ConnectTimeout": str(max(1, round(host.connect_timeout))), "LogLevel": "ERROR",
    }
    login = login or host.terminal_user
    if not login:
        raise TtydError(f"no terminal_user for {host.name}",
                        f"Set hosts.{host.name}.terminal_user in recon.toml.", 409)
    # The terminal login, never host.user: a shell must not carry RECON's sudo rules (config
    # refuses both a terminal_user and a mapped login equal to it).
    argv = [ssh, "-F", "none", "-tt", "-i", str(key_file or host.key_path), "-p", str(host.port),
            "-l", login]
    for key, value in options.items():
        argv += ["-o", f"{key}={value}"]
    where = f"{login}@{host.address}:{host.port}"
    return ["/bin/sh", "-c", SSH_WRAPPER, "recon-terminal", f"{host.name} ({where})",
            str(ending_prefix), *argv, "--", host.address]


def ttyd_command(ttyd: str, socket_path: Path, base: str, credential: str, writable: bool,
                 title: str, command: list[str]) -> list[str]:
    """ttyd's argv. Never ``-a`` (URL arguments would reach ssh as options). One client per
    session (``--max-clients 1``: ttyd refuses a second WebSocket while one is open)."""
    argv = [ttyd, "-i", str(socket_path), "-b", base, "-c", credential, "-m", "1",
            "-t", "disableReconnect=true", "-t", "disableLeaveAlert=true",
            "-t", f"titleFixed={title}"]
    if writable:
        argv.append("-W")
    return [*argv, *command]


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over ttyd's UNIX socket."""

    def __init__(self, path: str, timeout: float = 5.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def basic_header(credential: str) -> str:
    return "Basic " + base64.b64encode(credential.encode()).decode()


# -- children of this process ------------------------------------------------------------
_children: dict[int, subprocess.Popen] = {}
_children_lock = threading.Lock()


def _reap(proc: subprocess.Popen) -> None:
    proc.wait()
    with _children_lock:
        _children.pop(proc.pid, None)


def spawn(argv: list[str], socket_path: Path, log_path: Path, timeout: float) -> int:
    """Start ttyd and return its pid once ``GET <base>/token`` answers 200.

    ttyd is started in its own session (a Ctrl-C in the terminal RECON runs in does not reach
    it), bound to this process (it gets SIGTERM when this process dies, even by ``kill -9``:
    no ttyd outlives the dashboard process that owns it) and reaped by a small waiter
    thread, so an exit never leaves a zombie behind.
    """
    if len(str(socket_path).encode()) > SUN_PATH_MAX:
        raise TtydError(f"socket path too long for a UNIX socket: {socket_path}",
                        "Set settings.terminal_run_dir (RECON_TERMINAL_RUN_DIR) to a shorter "
                        "directory.", 500)
    with open(log_path, "wb") as log:
        proc = spawn_bound(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                           env=CLEAN_ENV, cwd="/", close_fds=True, start_new_session=True)
    with _children_lock:
        _children[proc.pid] = proc
    threading.Thread(target=_reap, args=(proc,), daemon=True,
                     name=f"ttyd-reaper-{proc.pid}").start()
    base = argv[argv.index("-b") + 1]
    auth = basic_header(argv[argv.index("-c") + 1])
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            out = log_path.read_text(errors="replace").strip()[-500:]
            raise TtydError(f"ttyd exited with status {proc.returncode}: {out or 'no output'}",
                            "Check settings.ttyd_path points at ttyd 1.7 or newer.")
        if _token_ok(str(socket_path), base, auth):
            return proc.pid
        if time.monotonic() > deadline:
            terminate(proc.pid, str(socket_path))
            raise TtydError(f"ttyd did not answer on {socket_path} within {timeout:g}s",
                            "Raise settings.terminal_start_timeout_seconds on a slow machine.")
        time.sleep(0.003)


def _token_ok(path: str, base: str, auth: str) -> bool:
    conn = UnixHTTPConnection(path, timeout=1.0)
    try:
        conn.request("GET", base + "/token", headers={"Authorization": auth})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def children() -> list[int]:
    """Pids of the ttyd processes this process started and has not reaped yet.

    Read from each process's own state (``returncode`` is set when it is reaped) rather than
    trusting the bookkeeping alone: entries already reaped are dropped here."""
    with _children_lock:
        for pid in [pid for pid, proc in _children.items() if proc.returncode is not None]:
            del _children[pid]
        return list(_children)


# -- identity and signals ----------------------------------------------------------------
def _cmdline(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().split(b"\0")
    except OSError:
        return []


def is_ttyd_of(pid: int | None, socket_path: str) -> bool:
    """True while ``pid`` is a running (not zombie) process whose argv holds ``socket_path``."""
    if not pid:
        return False
    return os.fsencode(socket_path) in _cmdline(pid)


def _open_verified(pid: int | None, socket_path: str) -> int | None:
    """A pidfd for ``pid`` if it is this session's ttyd, else None (gone, zombie, recycled)."""
    if not pid:
        return None
    try:
        fd = os.pidfd_open(pid)
    except OSError:  # ESRCH: gone
        return None
    # The pidfd pins the process: if the check passes, the signal reaches this very process.
    if is_ttyd_of(pid, socket_path):
        return fd
    os.close(fd)
    return None


def _exited(fd: int, timeout: float) -> bool:
    return bool(wait_readable([fd], timeout))


def terminate(pid: int | None, socket_path: str, grace: float = 3.0) -> bool:
    """SIGTERM this session's ttyd (SIGKILL after ``grace``); False if it was not running."""
    fd = _open_verified(pid, socket_path)
    if fd is not None:
        try:
            try:
                signal.pidfd_send_signal(fd, signal.SIGTERM)
                if not _exited(fd, grace):
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
                    _exited(fd, 2.0)
            except ProcessLookupError:
                pass
        finally:
            os.close(fd)
    _forget_child(pid)
    return fd is not None


def _forget_child(pid: int | None) -> None:
    """Reap our own child now (it may have exited already, a zombie that no longer verifies)
    rather than when its waiter thread gets to run."""
    with _children_lock:
        proc = _children.get(pid)  # type: ignore[arg-type]
    if proc is not None:
        try:
            proc.wait(timeout=2.0)
            with _children_lock:  # reaped: forget it now, not when the waiter thread runs
                _children.pop(proc.pid, None)
        except subprocess.TimeoutExpired:
            pass


def remove_files(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink()
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
