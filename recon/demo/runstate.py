"""The on-disk state of testbed runs: which containers a run started, how to end them, and
which loopback addresses are free.

Every run keeps ``state.json`` in its folder under ``RUN_BASE``: its owner (pid + start time),
its watchdog, and per host the ``systemd-nspawn`` pid and the container's PID 1. Pids are
stored with their start times, so a stale file never makes anyone signal a reused pid.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import socket
import time
from pathlib import Path
from typing import Any

from recon.demo import procs

RUN_BASE = Path(os.environ.get("RECON_TESTBED_RUN") or "/run/recon-testbed")
STOP_GRACE = 5.0


def _bind_free(address: str, port: int) -> bool:
    # The test sshd itself would do: if we can bind, nothing (not even a wildcard listener
    # of the machine's own sshd) holds ADDRESS:PORT.
    with socket.socket() as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def pick_addresses(count: int, port: int = 22, attempts: int = 20) -> list[str]:
    """``count`` free loopback addresses from a random 127.X.Y.0/24 block.

    A random block per run keeps two concurrent runs (two engineers, two suites) apart; the
    bind probe catches the unlucky case and anything else on the machine using the block.
    """
    taken = {h["address"] for s in _states() for h in s.get("hosts", [])}
    for _ in range(attempts):
        block = f"127.{random.randint(100, 254)}.{random.randint(0, 255)}"
        addrs = [f"{block}.{i}" for i in range(1, count + 1)]
        if not taken & set(addrs) and all(_bind_free(a, port) for a in addrs):
            return addrs
    raise OSError(errno.EADDRINUSE, f"no free 127.X.Y.0/24 block with port {port} found")


def _states() -> list[dict[str, Any]]:
    out = []
    for state in RUN_BASE.glob("*/state.json"):
        try:
            out.append({**json.loads(state.read_text()), "dir": str(state.parent)})
        except (OSError, ValueError):
            continue
    return out


def _alive(entry: dict[str, Any], key: str) -> bool:
    pid = entry.get(key) or 0
    return bool(pid) and procs.is_alive(pid) and procs.starttime(pid) == entry.get(key + "_start")


def teardown(run_dir: Path, grace: float = STOP_GRACE) -> None:
    """End every container listed in ``run_dir/state.json`` and remove ``run_dir``.

    Used by :meth:`Testbed.stop`, the watchdog and :func:`reap_stale`; pids are checked
    against their recorded start times, so a reused pid is never signalled.
    """
    try:
        state = json.loads((run_dir / "state.json").read_text())
    except (OSError, ValueError):
        state = {"hosts": []}
    hosts = state.get("hosts", [])
    for h in hosts:
        if _alive(h, "nspawn"):
            os.kill(h["nspawn"], signal.SIGTERM)  # clean shutdown, ~2 s
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(h, "nspawn") for h in hosts):
        time.sleep(0.05)
    for h in hosts:
        # SIGKILL to a PID namespace's init ends every process in it.
        for key in ("leader", "nspawn"):
            if _alive(h, key):
                os.kill(h[key], signal.SIGKILL)
    shutil.rmtree(run_dir, ignore_errors=True)


def reap_stale() -> list[str]:
    """Tear down runs whose starter died without cleaning up; returns their directories."""
    reaped = []
    for state in _states():
        if not _alive(state, "owner"):
            teardown(Path(state["dir"]), grace=2.0)
            reaped.append(state["dir"])
    return reaped


def free_port() -> int:
    """A currently unused TCP port on 127.0.0.1 (for tests that need a closed port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
