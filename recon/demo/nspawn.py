"""Boot real Debian hosts (systemd, journald, sshd, sudo) in systemd-nspawn containers.

``Testbed(["demo"]).start()`` returns one :class:`~recon.demo.host.Host` per name, each a
container booted from the cached tree (:mod:`recon.demo.tree`) with ``--volatile=overlay``
(writes go to a per-container tmpfs; no copy of the tree), reachable over SSH on its own
loopback address ``127.X.Y.N`` port 22. The machine's PID 1 is not systemd, hence
``--keep-unit --register=no`` (without them nspawn wants the host's system bus).

Nothing may outlive its starter, even a ``kill -9``-ed one:
- every ``systemd-nspawn`` gets ``PR_SET_PDEATHSIG=SIGTERM`` (a clean container shutdown
  when the thread that started it dies);
- a watchdog process (:mod:`recon.demo.watchdog`) holds a pipe from the starter; on EOF it
  reads the run's ``state.json`` and SIGKILLs whatever is still alive (the container's PID 1
  takes its whole PID namespace with it), then removes the run directory;
- the next start reaps run directories whose owner is gone (:func:`reap_stale`).
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from recon.demo import files, procs
from recon.demo.host import Host, nsenter
from recon.demo.info import TargetInfo
from recon.demo.runstate import RUN_BASE, free_port, pick_addresses, reap_stale, teardown

__all__ = ["Testbed", "free_port", "pick_addresses", "teardown", "unavailable_reason"]
from recon.demo.tree import LOGIN_USER, TERMINAL_USER, ensure_tree, missing_host_tools

BOOT_TIMEOUT = 60.0
_PR_SET_PDEATHSIG = 1


def unavailable_reason() -> str | None:
    """Why real demo hosts cannot run here, or None if they can."""
    if os.geteuid() != 0:
        return "booting demo hosts needs root (systemd-nspawn, loopback sshd on port 22)"
    if sys.platform != "linux":
        return "systemd-nspawn needs Linux"
    missing = missing_host_tools()
    if missing and shutil.which("apt-get") is None:
        return f"missing Debian packages {' '.join(missing)} and no apt-get to install them"
    if not Path("/sys/fs/cgroup").is_dir():
        return "no /sys/fs/cgroup: systemd cannot run in a container here"
    return None


def _write(path: Path, text: str, mode: int = 0o644, owner: tuple[int, int] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    if owner:
        os.chown(tmp, *owner)
    os.replace(tmp, path)


def keypair(path: Path, comment: str) -> str:
    """An ed25519 key pair at ``path`` (0600); returns the public line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                        "-f", str(path)], check=True, capture_output=True)
    path.chmod(0o600)
    return path.with_suffix(".pub").read_text().strip()


def _pdeathsig() -> None:
    # Runs in the child between fork and exec: SIGTERM (nspawn's "shut the container down")
    # when the starting thread dies, even by SIGKILL.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Testbed:
    """N real hosts booted for one run. ``with Testbed(["a", "b"]) as hosts: ...``"""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, names: Sequence[str], *, units: Sequence[files.UnitSpec] | None = None,
                 extra_units: Sequence[files.UnitSpec] = files.EXTRA_UNITS,
                 random_crashes: bool = False, port: int = 22,
                 log: Callable[[str], None] = lambda msg: None) -> None:
        for n in names:
            if not n.replace("-", "").isalnum() or not n[0].isalpha():
                raise ValueError(f"host name {n!r} must be [A-Za-z][A-Za-z0-9-]*")
        self.names = list(names)
        self.units = tuple(units) if units is not None else files.DEFAULT_UNITS
        self.extra_units, self.random_crashes = tuple(extra_units), random_crashes
        self.port, self.log = port, log
        self.hosts: list[Host] = []
        self.run_dir: Path | None = None
        self.boot_seconds: float | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._state: dict[str, Any] = {}

    def __enter__(self) -> list[Host]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> list[Host]:
        """Boot every host and wait until each answers SSH with its units started."""
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        reap_stale()
        tree = ensure_tree(self.log)
        try:
            self._start(tree)
        except BaseException:
            self.stop()
            raise
        return self.hosts

    def _start(self, tree: Path) -> None:
        RUN_BASE.mkdir(mode=0o755, parents=True, exist_ok=True)
        run = self.run_dir = RUN_BASE / f"{os.getpid()}-{secrets.token_hex(4)}"
        run.mkdir(mode=0o700)
        me = os.getpid()
        self._state = {"owner": me, "owner_start": procs.starttime(me), "hosts": []}
        self._save()
        # The watchdog first: from here on a kill -9 of this process ends what follows.
        self._watchdog = subprocess.Popen(
            [sys.executable, "-m", "recon.demo.watchdog", str(run)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        self._state["watchdog"] = self._watchdog.pid
        client_pub = keypair(run / "client" / "id_ed25519", "recon@testbed")
        owners = {user: _account(tree, user) for user in (LOGIN_USER, TERMINAL_USER)}
        _write(run / "lib" / "heartbeat", files.HEARTBEAT, 0o755)
        _write(run / "lib" / "web.py", files.WEB, 0o755)
        _write(run / "lib" / "login-shell", files.LOGIN_SHELL_SCRIPT, 0o755)
        addresses = pick_addresses(len(self.names), self.port)
        started = time.monotonic()
        specs = []
        for i, (name, address) in enumerate(zip(self.names, addresses, strict=True)):
            specs.append(self._prepare_host(run, name, address, client_pub, owners))
            proc = self._spawn(tree, run, name, i, address)
            self._state["hosts"].append({"name": name, "address": address, "nspawn": proc.pid,
                                         "nspawn_start": procs.starttime(proc.pid)})
            self._save()
        with ThreadPoolExecutor(max_workers=min(8, len(self.names))) as pool:
            self.hosts = list(pool.map(self._bring_up, range(len(self.names)), specs))
        self.boot_seconds = time.monotonic() - started
        known = run / "client" / "known_hosts"
        known.write_text("".join(h.info.host_key_line + "\n" for h in self.hosts))
        self.log(f"{len(self.hosts)} real host(s) up in {self.boot_seconds:.1f} s: "
                 + ", ".join(f"{h.info.name}={h.info.address}" for h in self.hosts))

    def _prepare_host(self, run: Path, name: str, address: str, client_pub: str,
                      owners: dict[str, tuple[int, int]]) -> TargetInfo:
        d = run / name
        host_pub = keypair(d / "ssh_host_ed25519_key", f"{name}-host")
        _write(d / "sshd.conf", files.sshd_dropin(name=name, address=address, port=self.port))
        _write(d / "hosts", files.hosts_file(name=name, address=address))
        # systemd sets the hostname from /etc/hostname at boot, over nspawn's --hostname.
        _write(d / "hostname", name + "\n")
        # Owned by the login user's uid in the container (no user namespace: same numbers),
        # 0600, as StrictModes wants.
        for user, owner in owners.items():
            _write(d / f"authorized_keys.{user}", client_pub + "\n", 0o600, owner)
        (d / "units").mkdir(exist_ok=True)
        for spec in (*self.units, *self.extra_units):
            rendered = files.render_unit(spec, address=address,
                                         random_crashes=self.random_crashes)
            for fname, text in rendered.items():
                _write(d / "units" / fname, text)
        from recon.ssh.hostkeys import known_hosts_name
        line = known_hosts_name(address, self.port) + " " + " ".join(host_pub.split()[:2])
        return TargetInfo(
            name=name, address=address, port=self.port, user=LOGIN_USER,
            key_path=run / "client" / "id_ed25519", known_hosts_path=run / "client" / "known_hosts",
            host_key_line=line, systemctl="/usr/bin/systemctl",
            journalctl="/usr/bin/journalctl", sudo="/usr/bin/sudo",
            units=tuple(u.name for u in self.units), root=d, terminal_user=TERMINAL_USER)

    def _spawn(self, tree: Path, run: Path, name: str, index: int,
               address: str) -> subprocess.Popen[bytes]:
        d = run / name
        binds = [(d / "sshd.conf", "/etc/ssh/sshd_config.d/recon.conf"),
                 (d / "ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key"),
                 (d / "ssh_host_ed25519_key.pub", "/etc/ssh/ssh_host_ed25519_key.pub"),
                 (d / "hosts", "/etc/hosts"),
                 (d / "hostname", "/etc/hostname"),
                 *[(d / f"authorized_keys.{user}", f"/home/{user}/.ssh/authorized_keys")
                   for user in (LOGIN_USER, TERMINAL_USER)],
                 (d / "units", files.UNIT_DIR),
                 (run / "lib", files.LIB),
                 (run / "lib" / "login-shell", "/usr/local/bin/recon-login-shell")]
        argv = ["systemd-nspawn", "-D", str(tree), "--volatile=overlay", "--keep-unit",
                "--register=no", "-b", "--console=pipe", "--quiet",
                # Unique per run: nspawn keys its /run/systemd/nspawn state on the name.
                f"--machine=recon-{run.name}-{index}", f"--hostname={name}",
                *[f"--bind-ro={src}:{dst}" for src, dst in binds]]
        console = open(d / "console.log", "wb")  # noqa: SIM115 - handed to the child
        with console:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=console,
                                    stderr=subprocess.STDOUT, preexec_fn=_pdeathsig,
                                    start_new_session=True, close_fds=True)
        self._procs.append(proc)
        return proc

    def _bring_up(self, index: int, info: TargetInfo) -> Host:
        proc = self._procs[index]
        deadline = time.monotonic() + BOOT_TIMEOUT
        leader = _wait_leader(proc, deadline, info.root / "console.log")
        entry = self._state["hosts"][index]
        entry.update(leader=leader, leader_start=procs.starttime(leader))
        self._save()
        host = Host(info, leader, proc)
        # Real boot: PID 1 says when it is done (running, or degraded if a unit failed).
        # Until its bus is up, systemctl inside fails or says "offline": poll, then --wait.
        while True:
            left = max(1.0, deadline - time.monotonic())
            out = nsenter(leader, ["systemctl", "is-system-running", "--wait"], timeout=left,
                          check=False)
            state = out.stdout.strip()
            if state not in ("", "offline") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if state not in ("running", "degraded"):
            raise RuntimeError(f"{info.name}: boot ended {state!r} {out.stderr.strip()}: "
                               + host.run(["systemctl", "--failed", "--no-legend"],
                                          check=False).stdout)
        host.install_sudoers()
        enable = files.enable_names(tuple(s for s in (*self.units, *self.extra_units)))
        if enable:
            host.systemctl("enable", "--now", *enable)
        host.wait_for_ssh(deadline)
        return host

    def _save(self) -> None:
        if self.run_dir is not None:
            _write(self.run_dir / "state.json", json.dumps(self._state, indent=1) + "\n")

    def stop(self) -> None:
        """Shut every host down (SIGTERM, then SIGKILL past the grace) and remove the run.

        Only in the process that started them: a forked child (a gunicorn worker) that
        unwinds through its parent's ``finally`` at exit -- a HUP, a worker recycled -- must
        not stop the hosts every other process still serves."""
        if self.run_dir is None or self._state.get("owner") != os.getpid():
            return
        teardown(self.run_dir)
        for proc in self._procs:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self._watchdog is not None:
            self._watchdog.stdin.close()  # EOF: the watchdog finds nothing left and exits
            try:
                self._watchdog.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._watchdog.kill()
        self._procs, self.hosts, self.run_dir, self._watchdog = [], [], None, None


def _account(tree: Path, user: str) -> tuple[int, int]:
    for line in (tree / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise RuntimeError(f"no user {user} in {tree}; remove the tree to rebuild it")


def _wait_leader(proc: subprocess.Popen[bytes], deadline: float, console: Path) -> int:
    """The host pid of the container's PID 1 (nspawn's child once it runs systemd)."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited {proc.returncode}: "
                               + console.read_text(errors="replace")[-2000:])
        for child in procs.children(proc.pid):
            if procs.comm(child) == "systemd":
                return child
        time.sleep(0.02)
    raise TimeoutError("the container's systemd did not start in time")

