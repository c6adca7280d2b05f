"""Under real gunicorn (gthread, two workers): the WebSocket path, kill -9 of the whole
dashboard (its ttyds die with it) and a restart (its first GC pass closes their rows as
orphans), and ``flask recon gc``."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time

from helpers import ROOT, wait_for, wait_healthy
from terminal_fixtures import (
    LiveServer,
    attach,
    close_all,
    open_terminal,
    ttyd_pids,
    zombies_of,
)

from recon.core.children import spawn_bound
from recon.db.extensions import db
from recon.demo.nspawn import free_port
from recon.demo.procs import descendants
from recon.terminals.models import TerminalSession


class Gunicorn(LiveServer):
    """``gunicorn wsgi:app`` in its own process group, sharing the test app's database."""

    def __init__(self, app, workers: int = 2):  # noqa: D107  (no super(): no thread here)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ,
                    "RECON_CONFIG": app.config["RECON_CONFIG"],
                    "RECON_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "RECON_SECRET_KEY": app.config["SECRET_KEY"]}
        self.proc = spawn_bound(  # SIGTERM if pytest dies
            [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "8",
             "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "wsgi:app"], cwd=ROOT, env=self.env, start_new_session=True)
        wait_healthy(self.request, self.proc, 20, "gunicorn")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # graceful: workers close their sessions as "shutdown"
            self.proc.wait(30)

    def workers(self) -> list[int]:
        return descendants(self.proc.pid)


def reasons(app) -> dict[str, str | None]:
    with app.app_context():
        rows = db.session.scalars(db.select(TerminalSession)).all()
        out = {r.id: r.close_reason for r in rows}
        db.session.remove()
        return out


def test_gunicorn_terminal_ttyds_die_with_a_killed_worker_and_a_restart_closes_their_rows(
        make_app, target_info, term_env, run_dir, monkeypatch):
    app = make_app([target_info, dataclasses.replace(target_info, name="b")])
    token = app.config["TEST_TOKENS"]["operator"]
    server = Gunicorn(app)
    try:
        shell = open_terminal(server, token)
        view = open_terminal(server, token, host="b")
        client = attach(server, token, shell)
        client.send_input("echo via-gunicorn-$((40+2))\r")
        client.read_until(b"via-gunicorn-42")
        assert len(ttyd_pids(run_dir)) == 2
        server.kill9()
        client.wait_closed(5)
        # No ttyd outlives the worker that spawned it, even one killed with SIGKILL...
        assert wait_for(lambda: ttyd_pids(run_dir) == [], 5), ttyd_pids(run_dir)
        assert set(reasons(app).values()) == {None}  # ...though its rows are still open
        server = Gunicorn(app)  # until the restarted dashboard's first GC pass
        assert wait_for(lambda: set(reasons(app).values()) == {"orphan"}, 10)
        assert reasons(app) == {shell["id"]: "orphan", view["id"]: "orphan"}
        again = open_terminal(server, token)
        assert again["id"] not in (shell["id"], view["id"])
        server.stop()  # a clean stop closes what this run opened
        assert reasons(app)[again["id"]] == "shutdown"
        assert ttyd_pids(run_dir) == []
    finally:
        server.stop()
        close_all(app)


def test_flask_recon_gc_runs_one_pass_from_another_process(make_app, target_info, term_env,
                                                          run_dir, monkeypatch):
    monkeypatch.setenv("RECON_TERMINAL_IDLE_SECONDS", "1")
    monkeypatch.setenv("RECON_TERMINAL_GC_SECONDS", "3600")  # only the start-up pass runs
    app = make_app([target_info])
    token = app.config["TEST_TOKENS"]["operator"]
    server = Gunicorn(app)
    try:
        sess = open_terminal(server, token)
        time.sleep(1.2)
        out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "recon", "gc"],
                             cwd=ROOT, env=server.env, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        assert "closed 1 terminal session(s): 1 idle" in out.stdout
        assert reasons(app)[sess["id"]] == "idle"
        assert ttyd_pids(run_dir) == []
        # The worker that spawned it reaped it although another process killed it.
        assert wait_for(lambda: all(zombies_of(w) == [] for w in server.workers()), 2)
        out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "recon", "gc"],
                             cwd=ROOT, env=server.env, capture_output=True, text=True,
                             timeout=60)
        assert out.stdout.strip() == "closed 0 terminal session(s)"
    finally:
        server.stop()
        close_all(app)
