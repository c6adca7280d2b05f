"""``make run``'s demo mode survives a reload: a HUP of gunicorn's master restarts the
workers and the demo hosts stay up (a worker's exit used to run the demo's teardown), and
what the user added to the demo's recon.toml is still there after a restart."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import free_port, wait_for, wait_http
from stream_clients import call, form_login

from recon.core.children import spawn_bound
from recon.demo.nspawn import unavailable_reason

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.host


def _checkout(tmp: Path) -> Path:
    """A checkout whose instance folder is ``tmp/instance`` (Flask puts it beside the
    package), so the test never touches the real instance/."""
    (tmp / "recon").symlink_to(ROOT / "recon")
    shutil.copy(ROOT / "wsgi.py", tmp / "wsgi.py")
    return tmp


class Served:
    def __init__(self, tree: Path, port: int, log: Path) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("RECON_") or k == "RECON_TEST_RUN"}
        env.update(PYTHONPATH=str(tree), PYTHONUNBUFFERED="1")
        self.log = log
        with open(log, "ab") as out:
            self.proc = spawn_bound(  # SIGTERM if pytest dies
                [sys.executable, "-m", "recon.entry.serve", "--bind", f"127.0.0.1:{port}",
                 "--workers", "2", "--threads", "8"], cwd=tree, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_http(port, timeout=120)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; the server's log ends:\n"
                                 f"{log.read_text(errors='replace')[-3000:]}") from None

    def workers(self) -> set[int]:
        """The gunicorn workers (the master's other children are the demo's containers
        and watchdog)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid), "-f", "recon.entry.serve"],
                             capture_output=True, text=True).stdout
        return {int(p) for p in out.split()}

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def _reachable(port: int, headers: dict) -> dict[str, str]:
    code, body = call(port, "GET", "/api/services", headers)
    assert code == 200, body
    return {h["name"]: h["state"] for h in body["hosts"]}


@pytest.mark.skipif(unavailable_reason() is not None, reason="demo hosts need root")
def test_a_hup_keeps_the_demo_hosts_and_a_restart_keeps_what_was_added(tmp_path):
    tree = _checkout(tmp_path)
    log = tmp_path / "serve.log"
    port = free_port()
    server = Served(tree, port, log)
    try:
        password = wait_for(lambda: re.search(r"admin / (\S+)", log.read_text()), timeout=30)
        headers, _ = form_login(port, "admin", password.group(1))
        assert wait_for(lambda: set(_reachable(port, headers).values()) == {"up"},
                        timeout=60), _reachable(port, headers)
        before = server.workers()
        os.kill(server.proc.pid, signal.SIGHUP)
        assert wait_for(lambda: len(server.workers()) == 2 and not server.workers() & before,
                        timeout=60)
        headers, _ = form_login(port, "admin", password.group(1))
        time.sleep(5)  # long enough for the old workers' exits to have done any harm
        states = _reachable(port, headers)
        assert set(states.values()) == {"up"}, (states, log.read_text()[-3000:])
        assert "key_unreadable" not in log.read_text()

        demo_toml = tree / "instance" / "demo" / "recon.toml"
        demo_toml.write_text(demo_toml.read_text() + '\n# added by the user\n[[services]]\n'
                             'slug = "mine"\nname = "Mine"\nhost = "alpha"\n'
                             'unit = "demo-worker.service"\n')
        assert wait_for(lambda: call(port, "GET", "/api/services/mine/status",
                                     headers)[0] == 200, timeout=10)
    finally:
        server.stop()
    server = Served(tree, port, log)
    try:
        headers, _ = form_login(port, "admin", password.group(1))
        assert call(port, "GET", "/api/services/mine/status", headers)[0] == 200
        assert "# added by the user" in demo_toml.read_text()
        assert wait_for(lambda: set(_reachable(port, headers).values()) == {"up"},
                        timeout=60)
    finally:
        server.stop()
