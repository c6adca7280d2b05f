"""Terminals across two RECON replicas on one real PostgreSQL behind nginx
(deploy/nginx/recon-replicas.conf), with the real ``target`` host and ttyd (the stand-in, or
``RECON_TEST_TTYD``): nginx routes a terminal's WebSocket to the replica that runs it; the
other replica, reached straight, refuses it with where it runs (421); after kill -9 of the
replica that ran it, the socket ends, a reconnect through nginx gets one stable answer
(410 ``terminal_server_gone`` naming the dead server), the survivor's GC closes the row as an
orphan, and a new terminal opens on the survivor."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time

import pg_cluster
import pytest
import sqlalchemy as sa
from conftest import build_app
from helpers import Gunicorn, wait_for
from nginx_server import NGINX, REPLICAS, Nginx, replica_upstreams
from terminal_fixtures import Rejected, TtyClient, close_all

from recon.audit.models import AuditEntry
from recon.core.process import describe
from recon.db.extensions import db
from recon.terminals.models import TerminalSession

pytestmark = [pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is not installed"),
              pytest.mark.skipif(pg_cluster.unavailable_reason() is not None,
                                 reason="no PostgreSQL")]


def _pids(server: Gunicorn) -> set[int]:
    out = subprocess.run(["pgrep", "-g", str(server.proc.pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def _row(app, session_id: str) -> TerminalSession:
    with app.app_context():
        row = db.session.get(TerminalSession, session_id)
        db.session.expunge(row)
        db.session.remove()
    return row


def _call(nginx: Nginx, method: str, path: str, token: str, body: dict | None = None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, raw, _ = nginx.request(method, path, headers,
                                   json.dumps(body) if body is not None else None)
    return status, json.loads(raw) if raw else {}


def _call_straight(server: Gunicorn, method: str, path: str, token: str):
    """A request straight to one replica, bypassing nginx: (status, JSON or page text)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        raw = resp.read().decode()
        json_body = resp.getheader("Content-Type", "").startswith("application/json")
        return resp.status, json.loads(raw) if json_body else raw
    finally:
        conn.close()


def _attach(nginx: Nginx, token: str, url: str) -> TtyClient:
    """What ttyd's page does, through nginx over TLS: /token, the WebSocket, the hello."""
    status, tok = _call(nginx, "GET", url + "tty/token", token)
    assert status == 200, tok
    client = TtyClient.connect(f"https://127.0.0.1:{nginx.https}{url}tty/ws",
                               headers={"Authorization": f"Bearer {token}"}, context=nginx.ctx)
    client.hello(tok["token"])
    return client


def _refused(url: str, token: str, **kw) -> tuple[int, dict]:
    with pytest.raises(Rejected) as refused:
        TtyClient.connect(url, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw)
    return refused.value.status, json.loads(refused.value.body)


def test_a_terminal_follows_its_replica_and_ends_clearly_when_that_replica_dies(
        tmp_path, target_info, term_env, monkeypatch):
    monkeypatch.setenv("RECON_TEST_DATABASE", "postgresql")
    monkeypatch.setenv("RECON_TERMINAL_RECORDING_DIR", str(tmp_path / "recordings"))
    app = build_app(tmp_path, [target_info])
    token = app.config["TEST_TOKENS"]["operator"]
    env = {"RECON_TRUSTED_PROXIES": "127.0.0.1"}
    a = Gunicorn(app, workers=1, env=env, error_log=str(tmp_path / "a.log")).start()
    b = Gunicorn(app, workers=1, env=env, error_log=str(tmp_path / "b.log")).start()
    nginx = Nginx(tmp_path, 0, conf=REPLICAS, upstreams=replica_upstreams([a.port, b.port]))
    try:
        # Opened through nginx...
        status, body = _call(nginx, "POST", "/api/terminals", token, {"host": "demo"})
        assert status == 201, body
        sess = body["session"]
        spawner = _row(app, sess["id"]).spawner
        owner = a if int(spawner.split(":")[0]) in _pids(a) else b
        other = b if owner is a else a
        assert int(spawner.split(":")[0]) in _pids(owner)

        # The other replica, reached straight (bypassing nginx), says where it runs: at once.
        # (Asked before attaching: the stand-in drops a client that misses its pings.)
        started = time.monotonic()
        status, err = _refused(f"http://127.0.0.1:{other.port}{sess['url']}tty/ws", token)
        assert status == 421 and err["error"] == "terminal_elsewhere", err
        assert describe(spawner) in err["message"] and err["server"] == describe(spawner)
        assert time.monotonic() - started < 5  # an answer, not a hang
        status, err = _call_straight(other, "GET", sess["url"] + "tty/token", token)
        assert status == 421 and err["error"] == "terminal_elsewhere", err
        status, page = _call_straight(other, "GET", sess["url"], token)
        assert status == 200 and 'data-code="terminal_elsewhere"' in page
        assert describe(spawner) in page and "term-frame" not in page

        # ...which left it open: typed into and read back through nginx.
        client = _attach(nginx, token, sess["url"])
        client.send_input("echo via-replica-$((40+2))\r")
        client.read_until(b"via-replica-42")

        # kill -9 of the replica that runs it: the open socket ends.
        os.killpg(owner.proc.pid, signal.SIGKILL)
        owner.proc.wait(10)
        killed = time.monotonic()
        # (1006: the connection dropped, not a close frame from ttyd or RECON)
        assert client.wait_closed(10) is not None and client.closed.code == 1006, client.closed
        ended_after = time.monotonic() - killed
        # The survivor's cleanup closes the row as an orphan (before anyone asks).
        assert wait_for(lambda: _row(app, sess["id"]).close_reason == "orphan", timeout=10)
        closed_after = time.monotonic() - killed
        with app.app_context():
            gc_entries = db.session.scalars(sa.select(AuditEntry).where(
                AuditEntry.action == "terminal.close", AuditEntry.actor == "terminal-gc")).all()
            assert any(sess["id"] in (e.output or "") for e in gc_entries)
            db.session.remove()

        # A reconnect through nginx (now the survivor) gets one clear, stable answer.
        answers = []
        for _ in range(2):
            started = time.monotonic()
            answers.append(_refused(f"https://127.0.0.1:{nginx.https}{sess['url']}tty/ws",
                                    token, context=nginx.ctx))
            assert time.monotonic() - started < 8
        status, err = answers[0]
        assert answers[0] == answers[1]
        assert status == 410 and err["error"] == "terminal_server_gone", err
        assert describe(spawner) in err["message"]
        assert "Open a new terminal" in err["hint"]
        status, tok = _call(nginx, "GET", sess["url"] + "tty/token", token)
        assert status == 410 and tok["error"] == "terminal_server_gone", tok
        # Its record says it ended and why; the list of open terminals no longer has it.
        status, body = _call(nginx, "GET", f"/api/terminals/{sess['id']}", token)
        assert status == 200, body
        record = body["session"]
        assert record["closed_at"] and record["close_reason"] == "orphan"
        assert record["server_gone"]["code"] == "terminal_server_gone"
        assert describe(spawner) in record["server_gone"]["message"]
        status, body = _call(nginx, "GET", "/api/terminals", token)
        assert status == 200 and sess["id"] not in {t["id"] for t in body["terminals"]}

        # A new terminal opens on the survivor, through nginx, and works.
        status, body = _call(nginx, "POST", "/api/terminals", token, {"host": "demo"})
        assert status == 201, body
        again = body["session"]
        assert int(_row(app, again["id"]).spawner.split(":")[0]) in _pids(other)
        fresh = _attach(nginx, token, again["url"])
        fresh.send_input("echo survivor-$((40+2))\r")
        fresh.read_until(b"survivor-42")
        fresh.close()
        print(f"socket ended {ended_after:.2f} s after the kill, row closed as orphan "
              f"{closed_after:.2f} s after it")
    finally:
        nginx.stop()
        a.stop()
        b.stop()
        close_all(app)
