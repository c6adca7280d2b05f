"""The suite's own guard: a process a test leaves running fails the run, named by its command
line, and is ended; a clean run passes; the CI wrapper catches orphans re-parented to it.

Each case runs a throwaway pytest session (or the wrapper) in a subprocess, so the
deliberately leaked processes belong to it and not to this run."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from helpers import ROOT

SUPPORT = ROOT / "tests" / "support"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RECON_TEST_RUN"}  # a run of its own
    env.update(PYTHONPATH=str(SUPPORT), RECON_LEFTOVER_GRACE="0.5")
    return env


def _inner_run(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "leftovers", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)


def _running(tag: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
                state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[-1].split()[0]
            except OSError:
                continue
            if tag.encode() in cmd and state != b"Z":
                out.append(int(entry))
    return out


def test_a_child_and_an_orphan_left_running_fail_the_run_with_their_command_lines(tmp_path):
    tag = str(random.randrange(10**7, 10**8))  # a sleep of 30x.<tag> s names the process
    out = _inner_run(tmp_path, f"""
        import subprocess
        def test_leaks():
            # a child in its own session, as the suite starts servers...
            subprocess.Popen(["sleep", "301.{tag}"],
                             start_new_session=True)
            # ...and an orphan: its parent exits, so init adopts it (only its environment
            # still says which run it belongs to)
            subprocess.run(["sh", "-c", "sleep 302.{tag} & exit 0"])
        """)
    report = out.stdout + out.stderr
    assert out.returncode == 1, report
    assert "processes left behind by this run" in report
    assert f"sleep 301.{tag}" in report and f"sleep 302.{tag}" in report
    assert "1 passed, 2 left behind" in report
    time.sleep(0.2)
    assert _running(tag) == []  # reported, then ended


def test_a_run_that_ends_what_it_starts_passes(tmp_path):
    out = _inner_run(tmp_path, """
        import subprocess
        def test_clean():
            proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
            proc.terminate()
            proc.wait()
        """)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "left behind" not in out.stdout


def test_the_ci_wrapper_reports_and_ends_an_orphan_of_the_run_and_fails(tmp_path):
    tag = str(random.randrange(10**7, 10**8))  # a sleep of 30x.<tag> s names the process
    out = subprocess.run(
        [sys.executable, str(SUPPORT / "leftovers.py"), "--",
         "sh", "-c", f"sleep 303.{tag} & exit 0"],
        env=_env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "the test run left behind" in out.stdout and f"sleep 303.{tag}" in out.stdout
    assert _running(tag) == []
    ok = subprocess.run([sys.executable, str(SUPPORT / "leftovers.py"), "--", "true"],
                        env=_env(), capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout == ""
