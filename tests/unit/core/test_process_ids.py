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


def test_one_server_is_this_process_and_its_siblings_under_the_same_parent() -> None:
    """Workers of one gunicorn master are one server; a child of ours (another parent), a
    process that is gone and one of another machine are not."""
    from recon.core.process import describe, same_server

    assert same_server(process_id())
    code = ("import os, sys; sys.path[:0] = [%r]; from recon.core.process import process_id, "
            "same_server; print(same_server(%r), same_server(process_id(os.getpid())))"
            % (os.path.dirname(os.path.dirname(os.path.abspath(__import__("recon").__file__))),
               process_id()))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    mine = process_id(child.pid)
    sibling_says = child.communicate(timeout=30)[0].split()
    # the child is not of this server (its parent is us), nor are we of its
    assert sibling_says == ["False", "True"]
    assert not same_server(mine)  # gone now
    assert not same_server(mine.rsplit("@", 1)[0] + "@another-machine")
    assert describe(process_id()) == f"pid {os.getpid()} on {socket.gethostname()[:40]}"


def test_two_children_of_one_parent_are_one_server() -> None:
    code = "import time; time.sleep(30)"
    a = subprocess.Popen([sys.executable, "-c", code])
    try:
        check = ("import sys; sys.path[:0] = [%r]; from recon.core.process import same_server;"
                 " print(same_server(%r))")
        root = os.path.dirname(os.path.dirname(os.path.abspath(__import__("recon").__file__)))
        # a sibling (also our child) asks about a: one server, as two workers of one master
        out = subprocess.run([sys.executable, "-c", check % (root, process_id(a.pid))],
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.split() == ["True"], out.stderr
    finally:
        a.kill()
        a.wait()
