"""One booted demo host, driven from the outside as root: the helpers tests need.

Commands run inside with ``nsenter -t <container PID 1> -a`` (every namespace: its mounts,
its PID 1, its journal), files are read and written through ``/proc/<PID 1>/root``. What
RECON itself sends goes over SSH like to any other host; these helpers are the "someone at the
host's console" side of a test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from recon.demo import procs
from recon.demo.files import COMMAND_LOG, WEB_INPUT
from recon.demo.info import TargetInfo
from recon.demo.tree import LOGIN_USER

#: Rules ``set_sudo_rule`` can withdraw: the systemctl actions and ``journal`` (log reads).
SUDO_ACTIONS: tuple[str, ...] = ("start", "stop", "restart", "reload", "enable", "disable",
                                  "reset-failed", "mask", "unmask", "journal")
_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "SYSTEMD_PAGER": "",
        "SYSTEMD_COLORS": "0"}


def nsenter(leader: int, argv: list[str], *, timeout: float = 30, check: bool = True,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as root inside the container whose PID 1 is ``leader`` (host pid)."""
    result = subprocess.run(["nsenter", "-t", str(leader), "-a", *argv], env=_ENV,
                            input=input, capture_output=True, text=True, timeout=timeout,
                            stdin=None if input is not None else subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} on the container failed ({result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()}")
    return result


class Host:
    """A running demo host: its :class:`TargetInfo` plus console-side helpers."""

    def __init__(self, info: TargetInfo, leader: int, proc: subprocess.Popen[bytes]) -> None:
        self.info, self.leader, self.proc = info, leader, proc
        self._denied: set[tuple[str, str]] = set()

    @property
    def name(self) -> str:
        return self.info.name

    def path(self, inside: str) -> Path:
        """A path of the container's file system, as seen from the machine."""
        return Path(f"/proc/{self.leader}/root") / inside.lstrip("/")

    # -- commands inside -------------------------------------------------------------------
    def run(self, argv: list[str], *, timeout: float = 30, check: bool = True,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as root inside the host."""
        return nsenter(self.leader, argv, timeout=timeout, check=check, input=input)

    def systemctl(self, *args: str, check: bool = True,
                  timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The host's own systemctl, as root."""
        return self.run(["systemctl", *args], check=check, timeout=timeout)

    def show(self, unit: str, *props: str) -> dict[str, str]:
        """``systemctl show UNIT`` (as root) as a dict."""
        argv = ["systemctl", "show", unit] + ([f"--property={','.join(props)}"] if props else [])
        out = self.run(argv).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def main_pid(self, unit: str) -> int:
        """The unit's MainPID (container pid namespace; 0 when it has none)."""
        return int(self.show(unit, "MainPID")["MainPID"])

    def pid_alive(self, pid: int) -> bool:
        """Whether container pid ``pid`` exists."""
        return pid > 0 and self.run(["kill", "-0", str(pid)], check=False).returncode == 0

    def journal(self, *args: str) -> str:
        """``journalctl --no-pager ARGS`` inside, as root."""
        return self.run(["journalctl", "--no-pager", *args]).stdout

    # -- processes, seen from the machine --------------------------------------------------
    def processes(self) -> list[int]:
        """Host pids of every process in this container's PID namespace."""
        ns = procs.pid_namespace(self.leader)
        return procs.find(lambda p: procs.pid_namespace(p) == ns) if ns else []

    def remote_processes(self, pattern: str) -> list[int]:
        """Host pids of this host's processes whose command line contains ``pattern``."""
        return [p for p in self.processes() if pattern in procs.cmdline(p)]

    def memory_kb(self) -> int:
        """Proportional set size of everything in the container, in kB."""
        total = 0
        for p in self.processes():
            try:
                with open(f"/proc/{p}/smaps_rollup") as f:
                    total += sum(int(ln.split()[1]) for ln in f if ln.startswith("Pss:"))
            except OSError:
                continue
        return total

    # -- what tests observe ------------------------------------------------------------------
    def command_log(self) -> list[str]:
        """Every command the login user ran over SSH, oldest first (its login shell logs them)."""
        try:
            data = self.path(COMMAND_LOG).read_bytes()
        except FileNotFoundError:
            return []
        return [c.decode(errors="replace") for c in data.split(b"\0")[:-1]]

    def emit(self, unit: str, text: str) -> None:
        """Make demo-web print ``text`` on its stdout (so journald records it for the unit).

        Non-blocking open: with demo-web stopped there is no reader, and this fails at once.
        """
        if unit != "demo-web.service":
            raise ValueError("only demo-web.service takes lines to print")
        fd = os.open(self.path(WEB_INPUT), os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, text.encode() + b"\n")
        finally:
            os.close(fd)

    def set_dropin(self, unit: str, name: str, text: str | None) -> None:
        """Write (``text``) or remove (None) the runtime drop-in
        ``/run/systemd/system/UNIT.d/NAME.conf`` and reload systemd. Like a config rollout, a
        running unit keeps its old settings until it is restarted."""
        if unit not in self.info.units or not name.isidentifier():
            raise ValueError(f"{unit} is not a unit of this host, or {name!r} is not a name")
        path = self.path(f"/run/systemd/system/{unit}.d/{name}.conf")
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.systemctl("daemon-reload")

    # -- sudo --------------------------------------------------------------------------------
    @property
    def sudoers_file(self) -> Path:
        return self.path("/etc/sudoers.d/recon")

    def sudoers_text(self) -> str:
        """What ``recon sudoers`` generates for this host, minus withdrawn rules."""
        from recon.config import SYSTEMCTL_ACTIONS, load_config
        from recon.demo.recon_config import demo_config_toml
        from recon.logs.query import sudoers_journal_command
        from recon.onboarding.steps import sudoers_text
        from recon.ssh.systemctl import action_argv

        with tempfile.TemporaryDirectory() as tmp:
            toml = Path(tmp) / "recon.toml"
            toml.write_text(demo_config_toml([self.info]))
            config = load_config(toml, env={})
        host = config.hosts[self.name]
        denied = set()
        for unit, action in self._denied:
            cmd = (sudoers_journal_command(host.journalctl, unit) if action == "journal"
                   else " ".join(action_argv(host, action, unit)[2:]))
            assert action == "journal" or action in SYSTEMCTL_ACTIONS
            denied.add(f"{host.user} ALL=(root) NOPASSWD: {cmd}")
        lines = sudoers_text(config, host).splitlines()
        return "\n".join(ln for ln in lines if ln not in denied) + "\n"

    def install_sudoers(self) -> None:
        """Install the drop-in 0440 after ``visudo -cf`` inside the host accepted it."""
        tmp = self.path("/etc/sudoers.d/.recon-new")  # sudo skips names with a '.'
        tmp.write_text(self.sudoers_text())
        os.chmod(tmp, 0o440)
        check = self.run(["visudo", "-cf", "/etc/sudoers.d/.recon-new"], check=False)
        if check.returncode != 0:
            tmp.unlink()
            raise RuntimeError(f"generated sudoers rejected: {check.stdout}{check.stderr}")
        os.replace(tmp, self.sudoers_file)

    def set_sudo_rule(self, unit: str, action: str, allowed: bool) -> None:
        """Grant or withdraw one ``(unit, action)`` rule; action in ``SUDO_ACTIONS``."""
        if action not in SUDO_ACTIONS:
            raise ValueError(f"action must be one of {SUDO_ACTIONS}")
        if unit not in self.info.units:
            raise ValueError(f"{unit} is not a unit of this host")
        (self._denied.discard if allowed else self._denied.add)((unit, action))
        self.install_sudoers()

    # -- sshd ----------------------------------------------------------------------------------
    def ssh_answers(self) -> bool:
        """Whether sshd sends its banner on the host's address."""
        try:
            with socket.create_connection((self.info.address, self.info.port), timeout=1) as s:
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def wait_for_ssh(self, deadline: float) -> None:
        while not self.ssh_answers():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no SSH banner on {self.info.address}")
            time.sleep(0.05)

    def restart_sshd(self, *, drop_sessions: bool = False) -> None:
        """``systemctl restart ssh``: the same host key again. Debian's ssh.service has
        KillMode=process, so open sessions survive unless ``drop_sessions`` (as when the host
        goes down), which also ends the commands they run."""
        if drop_sessions:
            self.systemctl("stop", "ssh.service")
            uid = int(self.run(["id", "-u", LOGIN_USER]).stdout)
            for p in self.processes():
                if procs.cmdline(p).startswith("sshd: ") or procs.uid(p) == uid:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.systemctl("start", "ssh.service")
        else:
            self.systemctl("restart", "ssh.service")
        self.wait_for_ssh(time.monotonic() + 10)
