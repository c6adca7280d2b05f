"""``/api/terminals``: create, reuse, limits, ownership, close, metrics (stand-in ttyd); no
terminals on a host without a terminal_user."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import Counter
from pathlib import Path

import pytest
from conftest import token_client
from terminal_fixtures import LiveServer, close_all, token_for, ttyd_pids

from recon.terminals import ttyd


@pytest.fixture
def op(term_app):
    return token_client(term_app, term_app.config["TEST_TOKENS"]["operator"])


def create(client, host="demo", mode="shell"):
    return client.post("/api/terminals", json={"host": host, "mode": mode})


def test_create_starts_one_client_ttyd_on_a_private_socket_as_the_terminal_user(
        op, term_app, run_dir):
    resp = create(op)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    sess = body["session"]
    assert "token" not in body  # nothing would ever check it
    assert sess["status"] == "live" and sess["url"] == f"/terminals/{sess['id']}/"
    assert sess["user"] == "token:test-operator" and sess["host"] == "demo"
    sock = run_dir / f"{sess['id']}.sock"
    assert sock.is_socket()
    assert os.stat(run_dir).st_mode & 0o777 == 0o700
    [pid] = ttyd_pids(run_dir)
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert str(sock).encode() in argv and b"-W" in argv and b"-a" not in argv
    assert argv[argv.index(b"-m") + 1] == b"1"  # --max-clients 1
    joined = b" ".join(argv)
    assert b"-l recon-demo-term " in joined and b"-l recon-demo " not in joined
    assert b"StrictHostKeyChecking=yes" in joined and b"BatchMode=yes" in joined
    assert str(term_app.config["RECON_KNOWN_HOSTS"]).encode() in joined
    assert b"/dev/null" not in joined
    env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert not [e for e in env if e.startswith((b"RECON_", b"SSH_AUTH_SOCK"))]


def test_same_user_host_and_mode_reuses_the_live_session(op, run_dir):
    first = create(op).get_json()
    again = create(op)
    assert again.status_code == 200
    assert again.get_json()["session"]["id"] == first["session"]["id"]
    assert again.get_json()["reused"] is True
    metrics = op.get("/api/terminals/metrics").get_json()
    assert metrics["created"] == 1 and metrics["reused"] == 1 and metrics["live"] == 1


def test_bad_requests_are_refused_with_clear_errors(op, term_app):
    assert create(op, host="nope").status_code == 404
    assert create(op, mode="root").get_json()["error"] == "invalid_mode"
    view = create(op, mode="view")  # removed: it opened a second shell nobody could type in
    assert view.status_code == 400 and "logs/stream" in view.get_json()["hint"]
    assert op.post("/api/terminals", data="x").get_json()["error"] == "invalid_body"
    viewer = token_client(term_app, term_app.config["TEST_TOKENS"]["viewer"])
    assert create(viewer).status_code == 403
    assert viewer.get("/api/terminals").status_code == 403


def test_ttyd_missing_is_a_503_that_names_the_setting(op, monkeypatch, make_app, target_info):
    monkeypatch.setenv("RECON_TTYD_PATH", "/nonexistent/ttyd")
    app = make_app([target_info])
    client = token_client(app, app.config["TEST_TOKENS"]["operator"])
    resp = create(client)
    assert resp.status_code == 503 and "TTYD_PATH" in resp.get_json()["hint"]
    assert resp.get_json()["error"] == "ttyd_unavailable"
    assert client.get("/api/terminals").get_json()["terminals"] == []


def test_another_users_session_is_404_everywhere(op, term_app):
    sid = create(op).get_json()["session"]["id"]
    other = token_client(term_app, token_for(term_app, "mallory"))
    for method, path in [("GET", f"/api/terminals/{sid}"),
                         ("POST", f"/api/terminals/{sid}/heartbeat"),
                         ("DELETE", f"/api/terminals/{sid}"),
                         ("GET", f"/terminals/{sid}/"),
                         ("GET", f"/terminals/{sid}/tty/"),
                         ("GET", f"/terminals/{sid}/tty/token")]:
        resp = other.open(path, method=method)
        assert resp.status_code == 404, (method, path, resp.status_code)
    assert other.get("/api/terminals").get_json()["terminals"] == []
    assert op.get(f"/api/terminals/{sid}").status_code == 200  # still alive for its owner


def test_close_kills_ttyd_removes_the_socket_and_answers_410_after(op, term_app, run_dir):
    sid = create(op).get_json()["session"]["id"]
    assert op.get(f"/terminals/{sid}/tty/token").status_code == 200
    resp = op.delete(f"/api/terminals/{sid}")
    assert resp.status_code == 200
    assert resp.get_json()["session"]["close_reason"] == "user"
    assert ttyd_pids(run_dir) == [] and list(run_dir.iterdir()) == []
    for method, path in [("POST", f"/api/terminals/{sid}/heartbeat"),
                         ("DELETE", f"/api/terminals/{sid}"),
                         ("GET", f"/terminals/{sid}/tty/token")]:
        resp = op.open(path, method=method)
        assert resp.status_code == 410 and resp.get_json()["close_reason"] == "user"
    assert op.get("/api/terminals/0123456789abcdef0123456789abcdef").status_code == 404
    assert op.get(f"/terminals/{sid}/").status_code == 200  # the page says it was closed
    assert op.get("/api/terminals/metrics").get_json()["closed"]["user"] == 1
    admin = token_client(term_app, term_app.config["TEST_TOKENS"]["admin"])
    entries = admin.get("/api/audit").get_json()["entries"]
    assert [(e["action"], e["actor"], e["success"]) for e in entries[:2]] == [
        ("terminal.close", "token:test-operator", True),
        ("terminal.open", "token:test-operator", True)]


def test_heartbeat_records_activity(op, term_app):
    sess = create(op).get_json()["session"]
    resp = op.post(f"/api/terminals/{sess['id']}/heartbeat")
    assert resp.status_code == 200
    assert resp.get_json()["session"]["last_activity_at"] > sess["last_activity_at"]
    assert 0 < resp.get_json()["expires_in"] <= 600


def test_the_per_user_limit_is_a_clear_429(make_app, target_info, term_env, run_dir):
    infos = [target_info] + [dataclasses.replace(target_info, name=n) for n in ("b", "c", "d")]
    app = make_app(infos)
    client = token_client(app, app.config["TEST_TOKENS"]["operator"])
    try:
        for host in ("demo", "b", "c"):
            assert create(client, host).status_code == 201
        resp = create(client, "d", "shell")
        assert resp.status_code == 429
        body = resp.get_json()
        assert body["error"] == "terminal_limit" and len(body["sessions"]) == 3
        assert create(client, "b").status_code == 200  # reuse is not a new one
        assert client.get("/api/terminals/metrics").get_json()["limit_hits"] == 1
        assert len(ttyd_pids(run_dir)) == 3
    finally:
        close_all(app)


def test_twenty_parallel_creates_by_one_user_never_exceed_the_limit(
        make_app, target_info, term_env, run_dir):
    infos = [target_info] + [dataclasses.replace(target_info, name=n) for n in ("b", "c", "d")]
    app = make_app(infos)
    server = LiveServer(app)
    token = app.config["TEST_TOKENS"]["operator"]
    combos = [(h, "shell") for h in ("demo", "b", "c", "d")]
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        host, mode = combos[i % len(combos)]
        status, body, _ = server.request("POST", "/api/terminals", token,
                                         {"host": host, "mode": mode})
        with lock:
            results.append((status, body.get("session", {}).get("id")))

    try:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = Counter(s for s, _ in results)
        ids = {sid for s, sid in results if s in (200, 201)}
        assert len(results) == 20 and set(statuses) <= {200, 201, 429}, statuses
        assert len(ids) == 3 == statuses[201], statuses
        assert statuses[429] >= 1
        assert len(ttyd_pids(run_dir)) == 3
        with app.app_context():
            from recon.terminals import manager
            assert len(manager.open_sessions()) == 3
    finally:
        server.stop()
        close_all(app)
    assert ttyd_pids(run_dir) == []


def test_parallel_creates_by_many_users_never_share_a_socket(make_app, target_info, term_env,
                                                             run_dir):
    app = make_app([target_info])
    server = LiveServer(app)
    tokens = [token_for(app, f"user{i}") for i in range(12)]
    sessions: list[dict] = []
    lock = threading.Lock()

    def one(token: str) -> None:
        status, body, _ = server.request("POST", "/api/terminals", token, {"host": "demo"})
        assert status == 201, body
        with lock:
            sessions.append(body["session"])

    try:
        threads = [threading.Thread(target=one, args=(t,)) for t in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(sessions) == 12
        assert len({s["user"] for s in sessions}) == 12
        with app.app_context():
            from recon.terminals import manager
            rows = manager.open_sessions()
            assert len({r.socket_path for r in rows}) == 12
            assert len({r.pid for r in rows}) == 12
            assert all(ttyd.is_ttyd_of(r.pid, r.socket_path) for r in rows)
    finally:
        server.stop()
        close_all(app)
    assert ttyd_pids(run_dir) == []


def test_terminals_are_disabled_without_a_terminal_user(make_app, target_info, term_env):
    app = make_app([dataclasses.replace(target_info, terminal_user=None)])
    op = app.test_client()
    op.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {app.config['TEST_TOKENS']['operator']}"
    resp = op.post("/api/terminals", json={"host": "demo"})
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["error"] == "terminal_disabled" and "terminal_user" in body["hint"]
