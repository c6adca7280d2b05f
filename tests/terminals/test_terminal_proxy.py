"""The proxy over real HTTP (werkzeug's threaded server): page, token, WebSocket to a shell
on the real SSH target, Origin and owner checks, pings, activity, closed sessions; the
terminal page cannot be framed and frames only its own ttyd."""

from __future__ import annotations

import os
import signal
import time

import pytest
from terminal_fixtures import (
    PING_SECONDS,
    LiveServer,
    Rejected,
    TtyClient,
    attach,
    close_all,
    open_terminal,
    token_for,
)

from recon.core.clock import utc
from recon.db.extensions import db
from recon.terminals import manager
from recon.terminals.models import TerminalSession


def linger(client: TtyClient, seconds: float) -> None:
    """Wait like an open browser tab: reading, answering ttyd's pings."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.pump(0.05)


@pytest.fixture
def op_token(term_app) -> str:
    return term_app.config["TEST_TOKENS"]["operator"]


def test_a_command_typed_in_the_browser_runs_on_the_target(live, op_token, target):
    sess = open_terminal(live, op_token)
    status, page, headers = live.request("GET", sess["url"] + "tty/", op_token)
    assert status == 200 and b"WebSocket" in page
    assert headers["Cache-Control"] == "no-store"
    client = attach(live, op_token, sess)
    assert client.subprotocol == "tty"
    client.send_input("echo hello-$((6000+789)) $(id -un)\r")
    out = client.read_until(b"hello-6789 recon-demo-term")  # the terminal login, not RECON's
    # the title: in ttyd's preferences frame (titleFixed), or the stand-in's title frame
    assert b"demo (recon-demo-term)" in b"".join(client.frames)
    client.send_input("exit\r")
    assert client.wait_closed() is not None
    assert out.count(b"hello-6789 recon-demo-term") == 1


def test_one_client_per_terminal_a_second_window_is_refused(live, op_token):
    sess = open_terminal(live, op_token)
    first = attach(live, op_token, sess)
    first.read_until(b"$ ")
    with pytest.raises(Rejected) as second:
        attach(live, op_token, sess)
    assert second.value.status == 409 and b"terminal_in_use" in second.value.body
    first.send_input("echo still-mine-$((1+1))\r")
    first.read_until(b"still-mine-2")
    first.close()


def test_the_page_embeds_the_proxied_terminal(live, op_token):
    sess = open_terminal(live, op_token)
    status, page, _ = live.request("GET", sess["url"], op_token)
    assert status == 200
    assert f'src="{sess["url"]}tty/"'.encode() in page and b"/static/pages/terminal.js" in page
    assert b"https://" not in page  # no CDN


def test_a_foreign_or_missing_origin_is_refused(live, op_token):
    sess = open_terminal(live, op_token)
    url = live.url + sess["url"] + "tty/ws"
    auth = {"Authorization": f"Bearer {op_token}"}
    for origin in ("http://evil.example", f"http://127.0.0.1:{live.port + 1}", None):
        with pytest.raises(Rejected) as exc:
            TtyClient.connect(url, headers=auth, origin=origin)
        assert exc.value.status == 403 and b"bad_origin" in exc.value.body
    TtyClient.connect(url, headers=auth).close()  # the dashboard's own origin passes


def test_websocket_of_another_user_unknown_or_closed_session_fails_fast(live, op_token,
                                                                       term_app):
    sess = open_terminal(live, op_token)
    url = live.url + sess["url"] + "tty/ws"
    other = token_for(term_app, "eve")
    started = time.monotonic()
    with pytest.raises(Rejected) as exc:
        TtyClient.connect(url, headers={"Authorization": f"Bearer {other}"})
    assert exc.value.status == 404
    with pytest.raises(Rejected) as exc:
        TtyClient.connect(live.url + "/terminals/" + "0" * 32 + "/tty/ws",
                          headers={"Authorization": f"Bearer {op_token}"})
    assert exc.value.status == 404
    with pytest.raises(Rejected) as exc:
        TtyClient.connect(url)  # no credential at all
    assert exc.value.status == 401
    assert live.request("DELETE", f"/api/terminals/{sess['id']}", op_token)[0] == 200
    with pytest.raises(Rejected) as exc:
        TtyClient.connect(url, headers={"Authorization": f"Bearer {op_token}"})
    assert exc.value.status == 410
    assert time.monotonic() - started < 5


def test_closing_the_session_ends_an_open_websocket(live, op_token):
    sess = open_terminal(live, op_token)
    client = attach(live, op_token, sess)
    client.read_until(b"$ ")
    assert live.request("DELETE", f"/api/terminals/{sess['id']}", op_token)[0] == 200
    assert client.wait_closed(5) is not None


@pytest.mark.skipif(bool(os.environ.get("RECON_TEST_TTYD")),
                    reason="relies on the stand-in's 1 s pings (real ttyd pings every 5 s)")
def test_ttyd_pings_reach_the_browser_and_its_pongs_reach_ttyd(live, op_token):
    # One client per terminal: the silent client first, then a new session for the other.
    silent = attach(live, op_token, open_terminal(live, op_token), answer_pings=False)
    deadline = time.monotonic() + 6 * PING_SECONDS
    while time.monotonic() < deadline:
        silent.pump(0.05)
    answering = attach(live, op_token, open_terminal(live, op_token))
    answering.read_until(b"$ ")
    deadline = time.monotonic() + 6 * PING_SECONDS
    while time.monotonic() < deadline:
        answering.pump(0.05)
    # The stand-in drops a client that left a ping unanswered; the browser-like one stays.
    assert answering.pings >= 3 and answering.closed is None
    assert silent.pings >= 1 and silent.closed is not None and silent.closed.code == 1008
    answering.send_input("echo still-$((40+2))\r")
    answering.read_until(b"still-42")
    answering.close()


def test_websocket_traffic_counts_as_activity(make_app, target_info, term_env, monkeypatch):
    monkeypatch.setenv("RECON_TERMINAL_IDLE_SECONDS", "2")  # activity written every 0.5 s
    term_app = make_app([target_info])
    live = LiveServer(term_app)
    op_token = term_app.config["TEST_TOKENS"]["operator"]
    sess = open_terminal(live, op_token)
    client = attach(live, op_token, sess)
    client.read_until(b"$ ")

    def last_activity():
        with term_app.app_context():
            return utc(db.session.get(TerminalSession, sess["id"]).last_activity_at)

    before = last_activity()
    linger(client, 1.2)
    for i in range(4):  # typing, no heartbeat
        client.send_input(f"echo tick-{i}\r")
        client.read_until(f"tick-{i}\r\n".encode())
        linger(client, 0.3)
    assert (last_activity() - before).total_seconds() >= 1.0
    client.close()
    live.stop()
    close_all(term_app)


def test_a_dead_ttyd_is_detected_by_the_proxy_as_410(live, op_token, term_app):
    sess = open_terminal(live, op_token)
    with term_app.app_context():
        os.kill(manager.get(sess["id"]).pid, signal.SIGKILL)
    time.sleep(0.2)
    status, body, _ = live.request("GET", sess["url"] + "tty/token", op_token)
    assert status == 410 and body["close_reason"] == "process_exited"


def test_the_terminal_page_cannot_be_framed_and_frames_only_its_own_ttyd(live, op_token):
    sess = open_terminal(live, op_token)
    status, _, headers = live.request("GET", sess["url"], op_token)
    assert status == 200
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    status, _, inner = live.request("GET", sess["url"] + "tty/", op_token)
    assert status == 200  # ttyd's page: framed by the terminal page, by nobody else
    assert "frame-ancestors 'self'" in inner["Content-Security-Policy"]
    assert inner["X-Frame-Options"] == "SAMEORIGIN"
