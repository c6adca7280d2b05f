"""A real SSH target on 127.0.0.1: private sshd, login user, sudo rules, demo services.

Layout (why two places): ``root`` (often a pytest tmp dir, 0700 up the chain) holds only
what root-run sshd and the test client read -- host key, sshd config/log/pid, client key,
known_hosts, ``target.json``. Everything the *login user* must reach (wrappers, unit files,
status files, logs, authorized_keys) lives in ``sysroot = /opt/recon-demo/<name>-<port>/``,
root-owned and 0755 all the way up, which also satisfies sshd's StrictModes.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from recon.demo import procs, units
from recon.demo.journal import JournalShipper
from recon.demo.sshd import (
    SshDaemon,
    ensure_keypair,
    ensure_user,
    free_port,
    remove_tree,
    render_config,
)
from recon.demo.units import DEFAULT_UNITS, SUDO_ACTIONS, UnitSpec

SYSROOT_BASE = Path("/opt/recon-demo")
SUDOERS_DIR = Path("/etc/sudoers.d")
SERVICE_USER = "recon-demo-svc"
TERMINAL_USER = "recon-demo-term"
_CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


@dataclass(frozen=True)
class TargetInfo:
    """Everything a client needs to reach and drive one demo target."""

    name: str
    address: str
    port: int
    user: str
    key_path: Path
    known_hosts_path: Path
    host_key_line: str
    systemctl: str
    journalctl: str
    sudo: str
    units: tuple[str, ...]
    root: Path
    sysroot: Path
    # A second login with no sudo rules, for browser terminals (RECON's terminal_user).
    terminal_user: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly dict (paths as strings, units as a list)."""
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                for k, v in d.items()}


class DemoTarget:
    """Build, run and tear down one demo target. Use as ``with DemoTarget(dir) as info:``."""

    def __init__(self, root: Path, *, name: str = "demo", port: int | None = None,
                 user: str = "recon-demo", units: Sequence[UnitSpec] | None = None,
                 sudo_rules: bool = True, service_user: str | None = SERVICE_USER,
                 sysroot_base: Path = SYSROOT_BASE,
                 terminal_user: str | None = TERMINAL_USER) -> None:
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"target name {name!r} must be [A-Za-z0-9_-]")  # sudoers.d skips '.'
        self.root = Path(root).absolute()
        self.name, self.user, self.service_user = name, user, service_user
        self.terminal_user = terminal_user
        self.units: tuple[UnitSpec, ...] = tuple(units) if units is not None else DEFAULT_UNITS
        self.sudo_rules = sudo_rules
        self._fixed_port = port
        self.port = port or 0
        self._base = Path(sysroot_base)
        self._denied: set[tuple[str, str]] = set()
        self._sshd: SshDaemon | None = None
        self._journal: JournalShipper | None = None
        self._info: TargetInfo | None = None

    # -- paths -------------------------------------------------------------------------
    @property
    def sysroot(self) -> Path:
        """The per-target tree passed to the systemctl replacement as ``--root``."""
        return self._base / f"{self.name}-{self.port}"

    @property
    def sudoers_file(self) -> Path:
        """The sudoers drop-in of this target."""
        return SUDOERS_DIR / f"recon-demo-{self.name}-{self.port}"

    @property
    def info(self) -> TargetInfo:
        """The TargetInfo of a started target."""
        if self._info is None:
            raise RuntimeError("target not started")
        return self._info

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> TargetInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> TargetInfo:
        """Build everything, start sshd (polled until it sends a banner) and the enabled units.

        Calling it again on a started target returns the same info.
        """
        if self._info is not None and self._sshd and self._sshd.pid():
            return self._info
        if os.geteuid() != 0:
            raise PermissionError("a demo target needs root (useradd, sudoers, sshd)")
        try:
            for attempt in range(5):
                self.port = self._fixed_port or free_port()
                # Units of a crashed earlier run on this very sysroot would confuse MainPID.
                procs.terminate(procs.with_environ(units.env_marker(self.sysroot)))
                self._build()
                self._sshd = self._make_sshd()
                try:
                    self._sshd.start()
                    break
                except OSError as e:  # port taken between free_port() and sshd's bind
                    self._remove_files()
                    if self._fixed_port or e.errno != errno.EADDRINUSE or attempt == 4:
                        raise
            self._write_state()
            enabled = [u.name for u in self.units if u.enabled]
            if enabled:
                self.systemctl("enable", *enabled)
                self.systemctl("start", *enabled)
            # The real journal (journalctl --directory) fed with the units' output.
            self._journal = JournalShipper(self.sysroot)
            self._journal.start()
        except BaseException:
            self.stop()  # no half-built target (sudoers drop-in, sshd) outlives a failure
            raise
        return self.info

    def stop(self) -> None:
        """Stop the units, kill this target's own sshd and leftovers, remove its files.

        Works from ``target.json`` too, so a target left behind by a dead process can be
        stopped (``python -m recon.demo down``). The login user is left in place.
        """
        state = self.root / "target.json"
        if self._info is None and state.exists():
            self.port = json.loads(state.read_text())["port"]
        if self.port == 0:
            return
        wrapper = self.sysroot / "bin" / "systemctl"
        if wrapper.exists():
            names = [u.name for u in self.units]
            try:
                subprocess.run([str(wrapper), "stop", *names], env=self._tool_env(), timeout=60,
                               stdin=subprocess.DEVNULL, capture_output=True)
            except subprocess.TimeoutExpired:
                pass  # a hung ExecStop: the environment sweep below ends the units anyway
        (self._sshd or self._make_sshd()).stop(drop_sessions=True)
        if self._journal is not None:
            self._journal.stop()
            self._journal = None
        # Orphans -- a reload killed half-way, a session's `nohup ... &` -- are nobody's
        # children any more; the RECON_DEMO_ROOT environment marker still names them ours.
        procs.terminate(procs.with_environ(units.env_marker(self.sysroot)))
        self.sudoers_file.unlink(missing_ok=True)
        self._remove_files()
        state.unlink(missing_ok=True)
        self._info = None

    def restart_sshd(self, *, drop_sessions: bool = False) -> None:
        """Kill this target's sshd and start it again on the same port with the same host key.

        Open connections survive unless ``drop_sessions`` (like ``systemctl restart ssh``).
        """
        sshd = self._sshd or self._make_sshd()
        sshd.stop(drop_sessions=drop_sessions)
        sshd.start()
        self._sshd = sshd

    def set_sudo_rule(self, unit: str, action: str, allowed: bool) -> None:
        """Grant or withdraw one ``(unit, action)`` rule; action in ``SUDO_ACTIONS``."""
        if action not in SUDO_ACTIONS:
            raise ValueError(f"action must be one of {SUDO_ACTIONS}")
        if unit not in {u.name for u in self.units}:
            raise ValueError(f"{unit} is not a unit of this target")
        (self._denied.discard if allowed else self._denied.add)((unit, action))
        self._install_sudoers()

    # -- probes ------------------------------------------------------------------------
    def remote_processes(self, pattern: str) -> list[int]:
        """Live pids (any user) whose command line contains ``pattern``."""
        return procs.with_cmdline(pattern)

    def command_log(self) -> list[str]:
        """Every command the login user ran over this target's sshd, oldest first."""
        try:
            data = (self.sysroot / "log" / "commands.log").read_bytes()
        except FileNotFoundError:
            return []
        return [c.decode(errors="replace") for c in data.split(b"\0")[:-1]]

    def systemctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run this target's systemctl wrapper as root, locally (setup and teardown only)."""
        result = subprocess.run([str(self.sysroot / "bin" / "systemctl"), *args],
                                env=self._tool_env(), stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"systemctl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    # -- building ----------------------------------------------------------------------
    def _tool_env(self) -> dict[str, str]:
        # A clean environment, as under sudo, plus the marker so that even a local
        # systemctl call killed by its timeout is found by the teardown sweep.
        return {**_CLEAN_ENV, "RECON_DEMO_ROOT": str(self.sysroot)}

    def _make_sshd(self) -> SshDaemon:
        d = self.root / "sshd"
        return SshDaemon(d / "sshd_config", d / "sshd.pid", d / "sshd.log", self.port)

    def _build(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        shell = self._base / "bin" / "login-shell"
        _install(shell, units.LOGIN_SHELL_SCRIPT, 0o755)
        ensure_user(self.user, login_shell=str(shell))
        if self.terminal_user:  # same authorized_keys file (sshd's AuthorizedKeysFile), no sudo
            ensure_user(self.terminal_user, login_shell=str(shell))
        if self.service_user:
            ensure_user(self.service_user, login_shell="/usr/sbin/nologin", home=False)
        host_pub = ensure_keypair(self.root / "sshd" / "ssh_host_ed25519_key", f"{self.name}-host")
        client_pub = ensure_keypair(self.root / "client" / "id_ed25519", f"recon@{self.name}")
        host_line = f"[127.0.0.1]:{self.port} " + " ".join(host_pub.split()[:2])
        known_hosts = self.root / "client" / "known_hosts"
        known_hosts.write_text(host_line + "\n")

        s, python = self.sysroot, units.python_executable()
        for sub in ("", "bin", "lib", "libexec", "ssh", "run", "etc/systemd/system"):
            (s / sub).mkdir(mode=0o755, parents=True, exist_ok=True)
            (s / sub).chmod(0o755)
        for d in [self._base, *self._base.parents]:
            if d.stat().st_mode & 0o005 != 0o005:  # StrictModes and the login user need x
                raise PermissionError(f"{d} must be world-readable/traversable")
        self._install_replacement(s / "lib", python)
        _install(s / "bin" / "systemctl", units.systemctl_wrapper(s, python), 0o755)
        _install(s / "bin" / "journalctl", units.journalctl_wrapper(s, python), 0o755)
        _install(s / "libexec" / "heartbeat", units.HEARTBEAT_SCRIPT, 0o755)
        _install(s / "ssh" / "authorized_keys", client_pub + "\n", 0o644)
        for spec in self.units:
            text = units.render_unit(spec, sysroot=s, service_user=self.service_user)
            _install(s / "etc/systemd/system" / spec.name, text, 0o644)
        uid, gid = _ids(self.user)
        # An unprivileged systemctl picks its runtime dir as the first *writable* of /run,
        # /var/run, ROOT/run -- and crashes if ROOT/run exists read-only. Group-writable and
        # sticky lets the login user use it without touching root's status files.
        os.chown(s / "run", 0, gid)
        (s / "run").chmod(0o1775)
        (s / f"run-{uid}").mkdir(mode=0o700, exist_ok=True)  # its non-root-mode RUN, same logic
        os.chown(s / f"run-{uid}", uid, gid)
        log = s / "log"  # written by the login user's shell, so owned by it
        log.mkdir(mode=0o700, exist_ok=True)
        os.chown(log, uid, gid)

        # RECON_DEMO_ROOT marks session processes the way the units' Environment= marks
        # theirs, so stop() also finds what a session left running in the background.
        env = {"PATH": f"{s}/bin:/usr/local/bin:/usr/bin:/bin",
               "RECON_DEMO_COMMAND_LOG": f"{log}/commands.log",
               "RECON_DEMO_ROOT": str(s)}
        _install(self.root / "sshd" / "sshd_config", render_config(
            port=self.port, user=" ".join(filter(None, (self.user, self.terminal_user))),
            host_key=self.root / "sshd" / "ssh_host_ed25519_key",
            pid_file=self.root / "sshd" / "sshd.pid", authorized_keys=s / "ssh" / "authorized_keys",
            env=env), 0o644)
        self._install_sudoers()
        self._info = TargetInfo(
            name=self.name, address="127.0.0.1", port=self.port, user=self.user,
            key_path=self.root / "client" / "id_ed25519", known_hosts_path=known_hosts,
            host_key_line=host_line, systemctl=str(s / "bin" / "systemctl"),
            journalctl=str(s / "bin" / "journalctl"), sudo="/usr/bin/sudo",
            units=tuple(u.name for u in self.units), root=self.root, sysroot=s,
            terminal_user=self.terminal_user)

    @staticmethod
    def _install_replacement(lib: Path, python: str) -> None:
        src_systemctl, src_journalctl = units.replacement_sources()
        _install(lib / "systemctl3.py",
                 units.patched(src_systemctl.read_text(), units.REPLACEMENT_PATCHES), 0o644)
        _install(lib / "journalctl3.py",
                 units.patched(src_journalctl.read_text(), units.JOURNALCTL_PATCHES), 0o644)
        _install(lib / "systemctl3-main", units.launcher(python), 0o755)
        # Compiled here, as root, by the interpreter the wrappers use: the login user can
        # read the bytecode but could never write it (and PYTHONDONTWRITEBYTECODE may be set).
        compile_it = "import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)"
        subprocess.run([python, "-c", compile_it, str(lib / "systemctl3.py")],
                       check=True, capture_output=True)

    def _install_sudoers(self) -> None:
        if not self.sudo_rules:
            self.sudoers_file.unlink(missing_ok=True)
            return
        text = units.render_sudoers(
            user=self.user, systemctl=str(self.sysroot / "bin" / "systemctl"),
            journalctl=str(self.sysroot / "bin" / "journalctl"),
            units=[u.name for u in self.units], denied=sorted(self._denied),
            header=f"RECON demo target {self.name} on 127.0.0.1:{self.port}; removed by stop()")
        # sudo ignores names containing '.', so the half-written candidate is never live.
        fd, tmp = tempfile.mkstemp(prefix=".recon-demo-", dir=SUDOERS_DIR)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.chmod(tmp, 0o440)
            check = subprocess.run(["visudo", "-cf", tmp], capture_output=True, text=True)
            if check.returncode != 0:
                raise RuntimeError(f"generated sudoers rejected: {check.stdout}{check.stderr}")
            os.replace(tmp, self.sudoers_file)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _remove_files(self) -> None:
        remove_tree(self.sysroot)
        self.sudoers_file.unlink(missing_ok=True)

    def _write_state(self) -> None:
        state = {**self.info.to_json(), "units_spec": [asdict(u) for u in self.units]}
        (self.root / "target.json").write_text(json.dumps(state, indent=2) + "\n")


def _install(path: Path, text: str, mode: int) -> None:
    """Write a root-owned file with ``mode`` (replacing, so a running reader never sees half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def load_state(root: Path) -> dict[str, Any]:
    """The ``target.json`` a started target wrote into ``root``."""
    return json.loads((Path(root) / "target.json").read_text())


def target_from_state(root: Path) -> DemoTarget:
    """A DemoTarget matching the one that wrote ``root/target.json`` (for stopping it)."""
    state = load_state(root)
    specs = [UnitSpec(**u) for u in state.get("units_spec", [])]
    base = Path(state["sysroot"]).parent
    return DemoTarget(root, name=state["name"], port=state["port"], user=state["user"],
                      units=specs or None, sysroot_base=base)
