"""The cached Debian tree every real demo host boots from (read-only, shared).

``debootstrap`` takes about a minute and 310 MB, so the tree is built once per machine and
kept OUTSIDE the checkout (``/var/cache/recon-testbed`` or ``$RECON_TESTBED_CACHE``). Hosts
boot it with ``--volatile=overlay``: their writes land in a per-container tmpfs, so the tree
itself never changes after the build.

Concurrency: the build happens in a temporary directory next to the cache and is renamed into
place only when complete, under an ``flock`` -- a second run waiting on the lock then finds
the finished tree; a run killed mid-build leaves only a ``.build-*`` directory, which the next
builder removes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# Bump when the preparation below changes: a new name means a new tree, the old one unused.
TREE_VERSION = "bookworm-v2"  # v2: the terminal login
CACHE_ENV = "RECON_TESTBED_CACHE"
MIRROR_ENV = "RECON_TESTBED_MIRROR"
DEFAULT_CACHE = Path("/var/cache/recon-testbed")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PACKAGES = "systemd,systemd-sysv,dbus,openssh-server,sudo,python3"
#: Debian packages the host needs to build and boot the tree.
HOST_PACKAGES = ("systemd-container", "debootstrap")
#: The unprivileged account RECON logs in as on every demo host.
LOGIN_USER = "recon-demo"
#: A second login with no sudo rules: RECON's ``terminal_user`` for browser shells.
TERMINAL_USER = "recon-demo-term"
#: The account the demo services run as.
SERVICE_USER = "demo-svc"
LOGIN_SHELL = "/usr/local/bin/recon-login-shell"
COMMAND_LOG_DIR = "/var/log/recon-demo"


def cache_dir() -> Path:
    """Where trees are cached (``$RECON_TESTBED_CACHE`` overrides)."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def missing_host_tools() -> list[str]:
    """Debian packages still needed here (``systemd-nspawn``, ``debootstrap``)."""
    tools = {"systemd-container": "systemd-nspawn", "debootstrap": "debootstrap"}
    return [pkg for pkg, tool in tools.items() if shutil.which(tool) is None]


def ensure_host_tools() -> None:
    """apt-get install what :func:`missing_host_tools` names (root only)."""
    missing = missing_host_tools()
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"missing Debian packages: {' '.join(missing)} (install them as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env,
                   capture_output=True)


def ensure_tree(log=print) -> Path:
    """The prepared tree, building it first if this machine has none yet."""
    base = cache_dir()
    tree = base / TREE_VERSION
    if (tree / "etc" / "os-release").exists():
        return tree
    ensure_host_tools()
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent builder finishes first
        if (tree / "etc" / "os-release").exists():
            return tree
        for stale in base.glob(".build-*"):  # killed builds (we hold the lock: none is live)
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=base))
        mirror = os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR
        log(f"building the demo host tree {tree} (debootstrap from {mirror}, ~1 minute, "
            "once per machine)")
        try:
            result = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm",
                 str(work), mirror], capture_output=True, text=True)
            if result.returncode != 0:
                tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
                raise RuntimeError("debootstrap failed: " + " | ".join(tail))
            prepare(work)
            work.chmod(0o755)
            os.rename(work, tree)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return tree


def _chroot(tree: Path, *argv: str) -> None:
    subprocess.run(["chroot", str(tree), *argv], check=True, capture_output=True,
                   env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})


def prepare(tree: Path) -> None:
    """What every host shares: accounts, no baked-in host keys, the command log's folder.

    Per-host and per-run things (host key, sshd address, client key, units, sudoers) are
    bound in or written at boot, so this tree never needs a rebuild for them.
    """
    for key in (tree / "etc" / "ssh").glob("ssh_host_*"):
        key.unlink()  # every host gets its own key; a shared one would make them one host
    _chroot(tree, "useradd", "--create-home", "--user-group", "--shell", LOGIN_SHELL,
            LOGIN_USER)
    # useradd leaves the account locked ('!'); with UsePAM no sshd then refuses even a key.
    # '*' unlocks key logins without any password matching.
    _chroot(tree, "usermod", "-p", "*", LOGIN_USER)
    _chroot(tree, "useradd", "--create-home", "--user-group", "--shell", LOGIN_SHELL,
            TERMINAL_USER)
    _chroot(tree, "usermod", "-p", "*", TERMINAL_USER)
    _chroot(tree, "install", "-d", "-m", "0700", "-o", TERMINAL_USER, "-g", TERMINAL_USER,
            f"/home/{TERMINAL_USER}/.ssh")
    _chroot(tree, "useradd", "--system", "--user-group", "--no-create-home",
            "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVICE_USER)
    _chroot(tree, "install", "-d", "-m", "0700", "-o", LOGIN_USER, "-g", LOGIN_USER,
            f"/home/{LOGIN_USER}/.ssh", COMMAND_LOG_DIR)
    _chroot(tree, "apt-get", "clean")
    # The tree's machine-id would be shared by every host; empty = a fresh one at each boot.
    (tree / "etc" / "machine-id").write_text("")
