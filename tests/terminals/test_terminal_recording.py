"""Recording through the real proxy (werkzeug's threaded server, the ttyd stand-in or real
ttyd with RECON_TEST_TTYD, a shell on the real SSH target): a recording holds what was
printed and not what was typed, unless input recording is on; the size cap writes its
marker and the session goes on; the audit entry links to the recording; the terminal page
says the session is recorded."""

from __future__ import annotations

import json
import time

from terminal_fixtures import LiveServer, attach, close_all, open_terminal

from recon.audit.models import AuditEntry
from recon.db.extensions import db
from recon.recordings import cast, store
from recon.recordings.models import TerminalRecording

# `stty -echo` (as a password prompt does) turns the terminal's echo off: what is typed then
# reaches the shell only as input, so it can be in the recording only as an "i" event.
SECRET = "hunter2-typed-only"


def events(app, sid: str) -> tuple[dict, list]:
    """The recording's header and events, once the relay noted its end (the browser sees
    the close frame a moment before the server's relay thread finishes)."""
    deadline = time.monotonic() + 10
    with app.app_context():
        while True:
            row = db.session.get(TerminalRecording, sid, populate_existing=True)
            if row is not None and row.ended_at is not None or time.monotonic() > deadline:
                break
            db.session.rollback()
            time.sleep(0.05)
        text = cast.read_text(store.path_of(row))
    head, *rest = [json.loads(x) for x in text.splitlines()]
    return head, rest


def typed_secret_session(live: LiveServer, token: str) -> dict:
    sess = open_terminal(live, token)
    client = attach(live, token, sess)
    client.read_until(b"$ ")
    client.send_input("stty -echo; printf 'Pass''word: '; read pw; stty echo; echo; "
                      "echo got-${#pw}-chars\r")
    client.read_until(b"Password: ")
    client.send_input(SECRET + "\r")
    client.read_until(f"got-{len(SECRET)}-chars".encode())
    client.send_input("exit\r")
    assert client.wait_closed() is not None
    assert SECRET.encode() not in client.output  # the terminal never showed it
    return sess


def test_a_recording_holds_what_was_printed_and_not_what_was_typed(live, term_app):
    token = term_app.config["TEST_TOKENS"]["operator"]
    sess = typed_secret_session(live, token)
    head, rest = events(term_app, sess["id"])
    assert head["version"] == 2 and (head["width"], head["height"]) == (120, 40)
    assert head["title"] == "test-operator on demo" or head["title"].endswith(" on demo")
    output = "".join(e[2] for e in rest if e[1] == "o")
    assert "[RECON] connecting to demo" in output and f"got-{len(SECRET)}-chars" in output
    assert SECRET not in json.dumps(rest) and not [e for e in rest if e[1] == "i"]
    with term_app.app_context():
        row = db.session.get(TerminalRecording, sess["id"])
        assert row.ended_at and row.bytes_recorded > 0 and not row.input_recorded
        opened = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "terminal.open")).all()[-1]
    assert f"recording /recordings/{sess['id']}" in opened.output
    admin = term_app.config["TEST_TOKENS"]["admin"]
    status, body, _ = live.request("GET", "/api/recordings", admin)
    assert status == 200 and sess["id"] in [r["id"] for r in body["recordings"]]


def test_with_input_recording_on_what_was_typed_is_recorded_too(make_app, target_info,
                                                                 term_env, monkeypatch):
    monkeypatch.setenv("RECON_TERMINAL_RECORD_INPUT", "true")
    app = make_app([target_info])
    live = LiveServer(app)
    try:
        token = app.config["TEST_TOKENS"]["operator"]
        sess = typed_secret_session(live, token)
        status, page, _ = live.request("GET", sess["url"], token)
        assert b"what is shown and typed" in page
        _, rest = events(app, sess["id"])
        typed = "".join(e[2] for e in rest if e[1] == "i")
        assert SECRET + "\r" in typed
        with app.app_context():
            assert db.session.get(TerminalRecording, sess["id"]).input_recorded
    finally:
        live.stop()
        close_all(app)


def test_the_size_cap_writes_a_marker_and_the_session_goes_on(make_app, target_info,
                                                               term_env, monkeypatch):
    monkeypatch.setenv("RECON_TERMINAL_RECORDING_MAX_BYTES", "20000")
    app = make_app([target_info])
    live = LiveServer(app)
    try:
        token = app.config["TEST_TOKENS"]["operator"]
        sess = open_terminal(live, token)
        status, page, _ = live.request("GET", sess["url"], token)
        assert b"Recorded: what is shown (not what you type)" in page
        client = attach(live, token, sess)
        client.read_until(b"$ ")
        client.send_input("head -c 50000 /dev/zero | tr '\\0' y; echo; echo big-$((6*7))\r")
        client.read_until(b"big-42")
        client.send_input("echo after-the-cap-$((1+1))\r")
        client.read_until(b"after-the-cap-2")  # the session went on
        client.send_input("exit\r")
        assert client.wait_closed() is not None
        _, rest = events(app, sess["id"])
        markers = [e for e in rest if e[1] == "m"]
        assert len(markers) == 1 and "size cap of 20000 bytes" in markers[0][2]
        assert rest[-1][1] == "m"  # nothing after it
        assert "after-the-cap" not in json.dumps(rest)
        recorded = sum(len(e[2].encode()) for e in rest if e[1] == "o")
        assert 15000 < recorded <= 20000
        with app.app_context():
            row = db.session.get(TerminalRecording, sess["id"])
            assert row.size_cap_hit and row.bytes_recorded <= 20000
    finally:
        live.stop()
        close_all(app)
