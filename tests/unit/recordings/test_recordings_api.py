"""The recordings' API and pages without a host: admins list, fetch (plain or gzip) and
replay, and each fetch is audited; viewers and operators get 403 everywhere; an unknown id
is a clear 404; retention prunes old recordings but not an open session's; the folder is
0700 and the files 0600."""

from __future__ import annotations

import gzip
import json
import os
import stat
import time
from pathlib import Path

import pytest
from flask import Flask

from recon import create_app
from recon.audit.models import AuditEntry
from recon.auth.accounts import create_token
from recon.db.extensions import db
from recon.jobs.retention import run_prune
from recon.recordings import store
from recon.recordings.models import TerminalRecording
from recon.web.policy import ROLES

DAY = 86400.0


@pytest.fixture
def app(tmp_path: Path, key: Path, monkeypatch) -> Flask:
    monkeypatch.setenv("RECON_TERMINAL_RECORDING_RETENTION_DAYS", "10")
    (tmp_path / "known_hosts").write_text("")
    config = tmp_path / "recon.toml"
    config.write_text(f"""
[hosts.h1]
address = "127.0.0.1"
port = 9
user = "recon"
key = "{key}"
terminal_user = "term"
""")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'recon.db'}"})
    with app.app_context():
        app.config["TEST_TOKENS"] = {r: create_token(f"t-{r}", r)[1] for r in ROLES}
    return app


def record(app: Flask, sid: str, started: float, output: list[bytes],
           user: str = "alice") -> None:
    """A recording as the proxy makes one: begin, frames through the tap, end."""
    with app.app_context():
        tap = store.begin(store.Session(sid, user, "h1", started, f"{user} on h1"))
        tap.message("down", json.dumps({"AuthToken": "t", "columns": 80, "rows": 24}), True)
        for chunk in output:
            tap.message("up", b"0" + chunk, True)
        store.end(sid, tap)


def folder_of(app: Flask) -> Path:
    with app.app_context():
        return store.folder()


def client(app: Flask, role: str):
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {app.config['TEST_TOKENS'][role]}"
    return c


def test_an_admin_lists_fetches_and_replays_and_the_fetch_is_audited(app):
    sid = "a" * 32
    record(app, sid, time.time() - 5, [b"$ ", b"uptime\r\n", b"up 3 days\r\n"])
    admin = client(app, "admin")
    listed = admin.get("/api/recordings").get_json()["recordings"]
    assert [(r["id"], r["user"], r["host"], r["session_id"]) for r in listed] == [
        (sid, "alice", "h1", sid)]
    assert listed[0]["size"] > 0 and listed[0]["bytes_recorded"] == 21
    assert listed[0]["duration_seconds"] >= 5 and listed[0]["url"] == f"/recordings/{sid}"
    plain = admin.get(f"/api/recordings/{sid}", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.mimetype == "application/x-asciicast"
    head, *events = [json.loads(x) for x in plain.get_data(as_text=True).splitlines()]
    assert head["width"] == 80 and "".join(e[2] for e in events) == "$ uptime\r\nup 3 days\r\n"
    zipped = admin.get(f"/api/recordings/{sid}", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    page = admin.get(f"/recordings/{sid}")
    assert page.status_code == 200 and b"vendor/asciinema-player/asciinema-player.min.js" \
        in page.data and b"pages/replay.js" in page.data
    assert "'wasm-unsafe-eval'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert admin.get("/recordings").status_code == 200
    assert f'href="/recordings/{sid}"'.encode() in admin.get("/recordings").data
    with app.app_context():
        audited = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "recording.replay")).all()
    assert len(audited) == 2 and all(sid in a.output for a in audited)


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_cannot_list_fetch_or_open_recordings(app, role):
    sid = "b" * 32
    record(app, sid, time.time(), [b"secret output"])
    c = client(app, role)
    for path in ("/api/recordings", f"/api/recordings/{sid}", f"/recordings/{sid}",
                 "/recordings"):
        resp = c.get(path)
        assert resp.status_code == 403, path
        assert b"secret output" not in resp.data
    assert c.get("/api/recordings").get_json()["error"] == "forbidden"


def test_an_unknown_recording_is_a_clear_404(app):
    admin = client(app, "admin")
    for rid in ("c" * 32, "x" * 40, "no-such.id"):
        resp = admin.get(f"/api/recordings/{rid}")
        body = resp.get_json()
        assert resp.status_code == 404
        assert body["error"] == "unknown_recording" and body["hint"]
    assert admin.get("/api/recordings/../../etc").status_code == 404


def test_the_folder_is_0700_and_the_files_0600(app):
    old = os.umask(0o022)
    try:
        record(app, "d" * 32, time.time(), [b"x"])
    finally:
        os.umask(old)
    folder = folder_of(app)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / ("d" * 32 + ".cast.gz")).stat().st_mode) == 0o600


def test_retention_prunes_old_recordings_but_not_an_open_sessions(app):
    now = time.time()
    old, fresh, still_open = "e" * 32, "f" * 32, "0" * 32
    for sid in (old, fresh, still_open):
        record(app, sid, now - 20 * DAY, [b"data"])
    folder = folder_of(app)
    stray = folder / ("1" * 32 + ".cast.gz")  # a file whose row is gone
    stray.write_bytes(b"")
    with app.app_context():
        rows = {r.id: r for r in db.session.scalars(db.select(TerminalRecording))}
        rows[old].ended_at = now - 11 * DAY
        rows[fresh].ended_at = now - 9 * DAY
        rows[still_open].ended_at = now - 11 * DAY
        db.session.commit()
    for sid, age in ((old, 11), (fresh, 9), (still_open, 11), ("1" * 32, 11)):
        t = now - age * DAY
        os.utime(folder / f"{sid}.cast.gz", (t, t))
    # still_open's terminal session is open: its recording stays
    from recon.terminals.models import TerminalSession
    with app.app_context():
        db.session.add(TerminalSession(
            id=still_open, user="alice", host="h1", mode="shell", slot=0, status="live",
            socket_path="/nonexistent.sock", spawner="1:1", expires_at=now + 60))
        db.session.commit()
        done = run_prune(now)
        left = set(db.session.scalars(db.select(TerminalRecording.id)))
    assert done["recordings"] == 2
    assert left == {fresh, still_open}
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{sid}.cast.gz" for sid in (fresh, still_open))
