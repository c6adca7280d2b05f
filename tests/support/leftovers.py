"""Nothing a test run starts outlives it: a pytest plugin, and a last-resort wrapper for CI.

**The plugin** (loaded by tests/conftest.py): at the start of the run it marks the
environment with ``RECON_TEST_RUN=<id>`` (every child inherits it, whatever its parent chain
becomes later). When the run ends -- after every fixture's teardown -- it looks for
processes that are this run's: live descendants of pytest, and processes anywhere whose
environment holds the mark (an orphan re-parented to init keeps its environment). Whatever
is still there after a short grace (a ttyd, a gunicorn, a systemd-nspawn, an ssh or dbus
helper...) is listed with its command line, counted in the summary line as "left behind"
and fails the run; testbed run folders of this run under /run/recon-testbed too. Then they
are ended, so one bad test does not leave a machine full of processes.

**The wrapper** (``python3 tests/support/leftovers.py -- make test``, used by .ci/run; only
the standard library, it runs before the venv exists): runs the command as a *child
subreaper*, so every orphan of the run is re-parented to it rather than to init; when the
command ends it reports the run's processes still alive (marked, or named like the suite's
servers), then ends them, and exits non-zero if there were any.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

MARK = "RECON_TEST_RUN"
GRACE = float(os.environ.get("RECON_LEFTOVER_GRACE", "5"))
# What the suite starts and may run with a clean environment (ttyd does), for the wrapper;
# it also adopts daemons that the packages `make test` installs start (a system dbus, say):
# those are not the suite's, carry no mark and are left alone.
SUITE_NAMES = ("ttyd", "gunicorn", "recon.entry.serve", "systemd-nspawn", "recon.demo",
               "nginx -c")
_PR_SET_CHILD_SUBREAPER = 36


# -- /proc --------------------------------------------------------------------------------
def _read(pid: int, what: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{what}", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _stat(pid: int) -> tuple[str, int]:
    """(state, parent pid); ("", 0) once gone."""
    fields = _read(pid, "stat").rsplit(b")", 1)[-1].split()
    return (fields[0].decode(), int(fields[1])) if fields else ("", 0)


def alive(pid: int) -> bool:
    return _stat(pid)[0] not in ("", "Z", "X")


def cmdline(pid: int) -> str:
    return _read(pid, "cmdline").rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")


def _all() -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def ancestors(pid: int) -> set[int]:
    out = set()
    while pid > 1:
        pid = _stat(pid)[1]
        out.add(pid)
    return out


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid in _all():
        children.setdefault(_stat(pid)[1], []).append(pid)
    out: set[int] = set()
    todo = list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        out.add(pid)
        todo.extend(children.get(pid, ()))
    return out


def marked(run_id: str) -> set[int]:
    entry = f"{MARK}={run_id}".encode()
    return {pid for pid in _all() if entry in _read(pid, "environ").split(b"\0")}


def run_processes(root: int, run_id: str) -> list[int]:
    """Live processes of the run below ``root`` (``root`` and its ancestors excluded)."""
    found = descendants(root) | marked(run_id)
    found -= {root, os.getpid()} | ancestors(root)
    return sorted(pid for pid in found if alive(pid))


def still_there(find, grace: float) -> list[int]:
    """What ``find()`` returns after up to ``grace`` seconds for it to become empty."""
    deadline = time.monotonic() + grace
    while True:
        pids = find()
        if not pids or time.monotonic() >= deadline:
            return pids
        time.sleep(0.1)


def describe(pids: Iterable[int]) -> list[str]:
    """One line per process, topmost first: a leaked container is one line, not hundreds."""
    pids = list(pids)
    top = [p for p in pids if _stat(p)[1] not in pids]
    lines = []
    for pid in top:
        below = len(descendants(pid) & set(pids))
        more = f" (+{below} below it)" if below else ""
        lines.append(f"pid {pid} (parent {_stat(pid)[1]}){more}: {cmdline(pid)[:300]}")
    return lines


def end(pids: Iterable[int], grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL what is left after ``grace``."""
    pending = list(pids)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        for pid in pending:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while pending and time.monotonic() < deadline:
            time.sleep(0.05)
            pending = [p for p in pending if alive(p)]


def testbed_dirs(owner: int) -> list[Path]:
    """Testbed run folders this process started (``<pid>-<hex>`` under the run base)."""
    base = Path(os.environ.get("RECON_TESTBED_RUN") or "/run/recon-testbed")
    return sorted(base.glob(f"{owner}-*")) if base.is_dir() else []


# -- the pytest plugin ----------------------------------------------------------------------
class LeftBehind:
    """A summary-line entry: "N passed, 2 left behind"."""

    count_towards_summary = True


def pytest_configure(config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller checks
        return
    os.environ.setdefault(MARK, uuid.uuid4().hex)
    config._recon_run = (os.getpid(), os.environ[MARK])


def pytest_sessionfinish(session, exitstatus) -> None:
    """After every teardown, before the summary: report what is still running, fail, end it."""
    run = getattr(session.config, "_recon_run", None)
    if run is None:
        return
    root, run_id = run
    pids = still_there(lambda: run_processes(root, run_id), GRACE)
    dirs = testbed_dirs(root)
    if not pids and not dirs:
        return
    lines = describe(pids) + [f"testbed run folder {d} (its containers were not stopped)"
                              for d in dirs]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", "processes left behind by this run", red=True, bold=True)
        for line in lines:
            reporter.write_line(line)
        reporter.write_line("(ended now; the test or fixture that started them must end them)")
        reporter.stats.setdefault("left behind", []).extend(LeftBehind() for _ in lines)
    else:
        print("processes left behind by this run:\n  " + "\n  ".join(lines), file=sys.stderr)
    session.exitstatus = 1
    end(pids)
    for d in dirs:
        try:
            from recon.demo.runstate import teardown
        except ImportError:
            break
        teardown(d)


# -- the wrapper -----------------------------------------------------------------------------
def wrap(argv: list[str]) -> int:
    """Run ``argv`` as a child subreaper; report, end and fail on what the run left."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    run_id = os.environ.setdefault(MARK, uuid.uuid4().hex)
    child = subprocess.Popen(argv)  # noqa: S603
    status = None
    while status is None:  # reap every orphan handed to us, and the command itself
        pid, code = os.waitpid(-1, 0)
        if pid == child.pid:
            status = os.waitstatus_to_exitcode(code)
            child.returncode = status
    me = os.getpid()

    def find() -> list[int]:
        while True:  # orphans that ended meanwhile: reap them
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        ours = marked(run_id)
        return [p for p in sorted(descendants(me)) if alive(p) and (
            p in ours or any(name in cmdline(p) for name in SUITE_NAMES))]

    left = still_there(find, GRACE)
    if not left:
        return status
    print("\nleftovers: processes the test run left behind (ending them now):", flush=True)
    for line in describe(left):
        print("  " + line, flush=True)
    end(left)
    return status or 1


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: leftovers.py -- COMMAND [ARGS...]")
    sys.exit(wrap(args))
