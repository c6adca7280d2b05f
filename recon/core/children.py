"""Children that die with this process: ``spawn_bound(argv, ...)`` is ``subprocess.Popen`` whose
child gets SIGTERM when this process dies, however it dies (a clean exit, a crash, ``kill -9``
of a gunicorn worker).

The kernel's parent-death signal (``PR_SET_PDEATHSIG``) fires when the *thread* that forked
the child ends, not the process. A request thread (werkzeug starts one per request) would
take its ttyd along when the request returns, so every bound child is forked by one
long-lived thread per process; it ends only with the process. A child that is meant to
outlive its parent (a watchdog) must not be started here.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import threading
from concurrent.futures import Future
from typing import Any

_PR_SET_PDEATHSIG = 1
# Resolved once, here: looking a symbol up between fork and exec could take the dynamic
# loader's lock that another thread held at fork time.
_prctl = ctypes.CDLL(None, use_errno=True).prctl

_jobs: queue.SimpleQueue[tuple[list[str], dict[str, Any], Future]] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_thread_pid = 0
_lock = threading.Lock()


def _bind_to_parent(parent: int, sig: int) -> None:
    """In the child, between fork and exec: ``sig`` when the forking thread dies. If the
    parent died already (before the call), the child was re-parented: end it now."""
    _prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _run() -> None:
    while True:
        argv, kwargs, result = _jobs.get()
        if not result.set_running_or_notify_cancel():
            continue
        try:
            result.set_result(subprocess.Popen(argv, **kwargs))  # noqa: S603
        except BaseException as exc:  # handed to the caller, who raises it
            result.set_exception(exc)


def _spawner() -> None:
    """Start this process's spawning thread (again after a fork: threads do not survive)."""
    global _thread, _thread_pid
    with _lock:
        if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
            return
        _thread_pid = os.getpid()
        # A daemon thread: it ends with the process, which is when its children must go.
        _thread = threading.Thread(target=_run, name="bound-children", daemon=True)
        _thread.start()


def spawn_bound(argv: list[str], sig: int = signal.SIGTERM, **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen(argv, **kwargs)`` whose child receives ``sig`` when this process
    dies. ``preexec_fn`` is taken; everything else (``start_new_session``, ``env``, ...) is
    passed through."""
    if "preexec_fn" in kwargs:
        raise TypeError("spawn_bound sets preexec_fn itself")
    kwargs["preexec_fn"] = lambda parent=os.getpid(): _bind_to_parent(parent, sig)
    _spawner()
    result: Future = Future()
    _jobs.put((argv, kwargs, result))
    return result.result()
