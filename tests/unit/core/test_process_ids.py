"""Process ids name their machine (replicas share one database): a process of this machine
is judged by /proc, one of another machine is never called dead from here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from recon.core.process import describe, process_alive, process_here, process_id, same_server


def test_an_id_names_the_pid_its_start_and_this_machine() -> None:
    ident = process_id()
    assert ident.startswith(f"{os.getpid()}:") and ident.endswith("@" + socket.gethostname()[:40])
    assert process_here(ident) and process_alive(ident)
    assert len(ident) <= 64


def test_a_dead_local_process_is_dead_and_a_remote_one_is_not_judged() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    ident = process_id(child.pid)
    child.wait()
    assert not process_alive(ident)
    remote = ident.rsplit("@", 1)[0] + "@another-machine"
    assert not process_here(remote) and process_alive(remote)


def test_an_id_from_before_ids_named_their_machine_is_local() -> None:
    old = process_id().rsplit("@", 1)[0]
    assert process_here(old) and process_alive(old)



ROOT = Path(__file__).resolve().parents[3]


def _same_server_in_a_child(*idents: str) -> list[str]:
    """What ``same_server`` answers for ``idents`` in a child of this process, which also
    asks about its own id (last)."""
    code = (f"import os, sys; sys.path[:0] = [{str(ROOT)!r}]\n"
            "from recon.core.process import process_id, same_server\n"
            f"print(*[same_server(i) for i in {list(idents)!r}], "
            "same_server(process_id(os.getpid())))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30)
    return out.stdout.split() or [out.stderr]


def test_one_server_is_this_process_and_its_siblings_under_the_same_parent() -> None:
    """Workers of one gunicorn master are one server (two children of this process stand
    in for them); a parent and its child are not, nor a process that is gone or one of
    another machine."""
    assert same_server(process_id())
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        # a child asks about its sibling (same parent: True), its parent (False), itself
        assert _same_server_in_a_child(process_id(sibling.pid), process_id()) == [
            "True", "False", "True"]
        assert not same_server(process_id(sibling.pid))  # our child: not of our server
    finally:
        sibling.kill()
        sibling.wait()
    gone = process_id(sibling.pid)
    assert not same_server(gone)
    assert not same_server(process_id().rsplit("@", 1)[0] + "@another-machine")
    assert describe(process_id()) == f"pid {os.getpid()} on {socket.gethostname()[:40]}"
