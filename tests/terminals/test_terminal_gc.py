"""The terminal GC: idle, TTL, dead ttyd and orphans, each closed with its reason within one
pass; heartbeats keep a session; parallel passes close each session once; no process,
socket or zombie survives many create/close cycles."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import threading
import time

import pytest
from conftest import token_client
from helpers import wait_for
from terminal_fixtures import close_all, ttyd_pids, zombies_of

from recon.core.process import process_id
from recon.db.extensions import db
from recon.jobs.background import terminal_gc_task
from recon.terminals import gc, manager, ttyd
from recon.terminals.models import TerminalSession


@pytest.fixture
def gc_app(make_app, target_info, term_env, monkeypatch):
    """An app whose sessions idle out after 1 s."""
    monkeypatch.setenv("RECON_TERMINAL_IDLE_SECONDS", "1")
    app = make_app([target_info])
    yield app
    close_all(app)


def opened(app, host="demo") -> str:
    client = token_client(app, app.config["TEST_TOKENS"]["operator"])
    resp = client.post("/api/terminals", json={"host": host, "mode": "shell"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["session"]["id"]


def row(app, sid) -> TerminalSession:
    with app.app_context():
        sess = db.session.get(TerminalSession, sid)
        db.session.expunge(sess)
        return sess


def one_pass(app):
    with app.app_context():
        return gc.run_pass()


def test_an_idle_session_is_closed_by_the_gc_thread_within_one_interval(gc_app, run_dir):
    sid = opened(gc_app)
    pid = row(gc_app, sid).pid
    collector = terminal_gc_task(gc_app)  # the task wsgi.py starts, here for this app only
    collector.thread.start()
    try:
        deadline = time.monotonic() + 1.0 + 0.3 + 1.0  # idle + one GC interval + slack
        while row(gc_app, sid).closed_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        collector.stop_event.set()
        collector.thread.join(5)
    sess = row(gc_app, sid)
    assert sess.close_reason == "idle" and sess.status == "closed"
    assert not ttyd.is_ttyd_of(pid, sess.socket_path) and ttyd_pids(run_dir) == []
    assert list(run_dir.iterdir()) == []


def test_heartbeats_keep_a_session_from_the_idle_timeout(gc_app):
    sid = opened(gc_app)
    client = token_client(gc_app, gc_app.config["TEST_TOKENS"]["operator"])
    for _ in range(7):  # 2.1 s, twice the idle timeout
        assert client.post(f"/api/terminals/{sid}/heartbeat").status_code == 200
        assert not one_pass(gc_app)
        time.sleep(0.3)
    assert row(gc_app, sid).closed_at is None
    time.sleep(1.1)
    assert one_pass(gc_app) == {"idle": 1}


def test_the_ttl_ends_a_session_even_with_heartbeats(make_app, target_info, term_env,
                                                     monkeypatch):
    monkeypatch.setenv("RECON_TERMINAL_TTL_SECONDS", "1.5")
    app = make_app([target_info])
    sid = opened(app)
    client = token_client(app, app.config["TEST_TOKENS"]["operator"])
    deadline = time.monotonic() + 1.6
    while time.monotonic() < deadline:
        client.post(f"/api/terminals/{sid}/heartbeat")
        time.sleep(0.2)
    assert one_pass(app) == {"ttl": 1}
    assert row(app, sid).close_reason == "ttl"
    assert client.post(f"/api/terminals/{sid}/heartbeat").status_code == 410


def test_a_ttyd_killed_with_sigkill_is_marked_process_exited_and_reaped(term_app, run_dir):
    sid = opened(term_app)
    pid = row(term_app, sid).pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert one_pass(term_app) == {"process_exited": 1}
    assert row(term_app, sid).close_reason == "process_exited"
    assert zombies_of(os.getpid()) == [] and list(run_dir.iterdir()) == []


def test_sessions_of_a_dead_dashboard_process_are_closed_as_orphans(term_app, run_dir):
    sid = opened(term_app)
    pid = row(term_app, sid).pid
    dead = process_id(os.getpid()).split(":")[0] + ":0"  # same pid, another start time
    with term_app.app_context():
        db.session.execute(db.update(TerminalSession).values(spawner=dead))
        db.session.commit()
    assert one_pass(term_app) == {"orphan": 1}
    assert not ttyd.is_ttyd_of(pid, row(term_app, sid).socket_path)
    assert ttyd_pids(run_dir) == []


def test_the_gc_never_signals_a_pid_that_is_not_the_sessions_ttyd(term_app, run_dir):
    sid = opened(term_app)
    [real] = ttyd_pids(run_dir)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        with term_app.app_context():  # as if ttyd died and its pid went to another program
            db.session.execute(db.update(TerminalSession).values(pid=sleeper.pid))
            db.session.commit()
        assert one_pass(term_app) == {"process_exited": 1}
        assert sleeper.poll() is None  # untouched
    finally:
        sleeper.kill()
        sleeper.wait()
    assert ttyd.terminate(real, row(term_app, sid).socket_path)  # the test's own cleanup


def test_parallel_passes_close_each_session_exactly_once(make_app, target_info, term_env,
                                                         monkeypatch, run_dir):
    monkeypatch.setenv("RECON_TERMINAL_IDLE_SECONDS", "0.5")
    app = make_app([target_info, dataclasses.replace(target_info, name="b")])
    ids = [opened(app, "demo"), opened(app, "b")]
    time.sleep(0.6)
    results = []

    def run():
        results.append(one_pass(app))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(sum(r.values()) for r in results) == 2
    with app.app_context():
        assert manager.metrics()["closed"]["idle"] == 2
    assert {row(app, i).close_reason for i in ids} == {"idle"}
    assert ttyd_pids(run_dir) == []


def test_200_create_close_cycles_leave_no_process_socket_or_zombie(term_app, run_dir):
    client = token_client(term_app, term_app.config["TEST_TOKENS"]["operator"])
    # ttyds of earlier tests in this process may still be closing: only ours count here
    earlier = set(ttyd.children())
    started = time.monotonic()
    for i in range(200):
        resp = client.post("/api/terminals", json={"host": "demo", "mode": "shell"})
        assert resp.status_code == 201, (i, resp.get_json())
        sid = resp.get_json()["session"]["id"]
        assert client.delete(f"/api/terminals/{sid}").status_code == 200
    elapsed = time.monotonic() - started
    # Waited for, not slept on: under load the reaper threads' bookkeeping may trail the
    # last DELETE by a moment; anything still there after 5 s is a leak.
    assert wait_for(lambda: ttyd_pids(run_dir) == [], timeout=5), ttyd_pids(run_dir)
    assert list(run_dir.iterdir()) == []
    assert wait_for(lambda: zombies_of(os.getpid()) == [], timeout=5)
    assert wait_for(lambda: set(ttyd.children()) <= earlier, timeout=5), ttyd.children()
    with term_app.app_context():
        m = manager.metrics()
    assert m["created"] == 200 and m["closed"]["user"] == 200 and m["live"] == 0
    print(f"200 cycles in {elapsed:.1f}s")
