"""Process ids name their machine (replicas share one database): a process of this machine
is judged by /proc, one of another machine is never called dead from here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from recon.core.process import process_alive, process_here, process_id


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
