"""An open terminal ends at once when it should (issue 12): an account change (logout, delete,
demote, new password) revokes it, the relay notices a close made elsewhere, and `exit` in the
shell marks the session "shell exited"."""

from __future__ import annotations

import re
import time

import pytest
from terminal_fixtures import (
    LiveServer,
    attach,
    open_terminal,
)

from recon.auth.accounts import create_user
from recon.terminals import manager

PASSWORD = "correct horse battery"


@pytest.fixture
def op_token(term_app) -> str:
    return term_app.config["TEST_TOKENS"]["operator"]


def session_login(live: LiveServer, username: str) -> tuple[dict, str]:
    """Log in through the form; returns (headers with the cookie, csrf token)."""
    status, page, headers = live.request("GET", "/login")
    cookie = headers["Set-Cookie"].split(";")[0]
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    import http.client
    from urllib.parse import urlencode
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    conn.request("POST", "/login", body=urlencode({
        "username": username, "password": PASSWORD, "csrf_token": csrf}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 302, resp.status
    cookie = resp.getheader("Set-Cookie").split(";")[0]
    conn.close()
    _, me, _ = live.request("GET", "/api/me", headers={"Cookie": cookie})
    return {"Cookie": cookie}, me["csrf_token"]


def cookie_terminal(live, hdrs, csrf):
    status, body, _ = live.request("POST", "/api/terminals", body={"host": "demo"},
                                   headers={**hdrs, "X-CSRF-Token": csrf})
    assert status == 201, body
    sess = body["session"]
    from terminal_fixtures import TtyClient
    status, tok, _ = live.request("GET", sess["url"] + "tty/token", headers=hdrs)
    client = TtyClient.connect(live.url + sess["url"] + "tty/ws", headers=hdrs)
    client.hello(tok["token"])
    client.read_until(b"$ ")
    return sess, client


def closed_within(client, seconds: float) -> float:
    start = time.monotonic()
    assert client.wait_closed(seconds) is not None, "the WebSocket stayed open"
    return time.monotonic() - start


@pytest.mark.parametrize("action", ["logout", "delete", "demote", "passwd"])
def test_account_changes_close_the_users_open_terminal_at_once(live, term_app, action):
    with term_app.app_context():
        create_user("tina", PASSWORD, "operator")
    hdrs, csrf = session_login(live, "tina")
    sess, client = cookie_terminal(live, hdrs, csrf)
    admin = term_app.config["TEST_TOKENS"]["admin"]
    if action == "logout":
        status, _, _ = live.request("POST", "/logout",
                                    headers={**hdrs, "X-CSRF-Token": csrf,
                                             "Accept": "application/json"})
    elif action == "delete":
        status, _, _ = live.request("DELETE", "/api/users/tina", admin)
    elif action == "demote":
        status, _, _ = live.request("PATCH", "/api/users/tina", admin, {"role": "viewer"})
    else:
        status, _, _ = live.request("PATCH", "/api/users/tina", admin,
                                    {"password": PASSWORD + "!"})
    assert status == 200
    assert closed_within(client, 5) < 3
    with term_app.app_context():
        assert manager.get(sess["id"]).close_reason == "revoked"


def test_the_relay_notices_a_close_made_elsewhere_even_if_ttyd_lives(live, term_app,
                                                                    op_token, monkeypatch):
    """As when the close ran in another worker whose signal did not reach ttyd."""
    sess = open_terminal(live, op_token)
    client = attach(live, op_token, sess)
    client.read_until(b"$ ")
    with term_app.app_context():
        monkeypatch.setattr(manager.ttyd, "terminate", lambda *a, **k: False)
        assert manager.claim(sess["id"], "revoked") is not None
        row = manager.get(sess["id"])
    assert closed_within(client, 5) < 3
    monkeypatch.undo()
    # The row is closed, so close_all would not end this ttyd: the test's own cleanup (it
    # was the ttyd that outlived a whole run, its socket folder long deleted).
    assert manager.ttyd.terminate(row.pid, row.socket_path)


def test_exit_in_the_shell_marks_the_session_shell_exited(live, term_app, op_token):
    sess = open_terminal(live, op_token)
    client = attach(live, op_token, sess)
    client.read_until(b"$ ")
    client.send_input("exit\r")
    assert client.wait_closed(10) is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _, body, _ = live.request("GET", f"/api/terminals/{sess['id']}", op_token)
        if body["session"]["closed_at"]:
            break
        time.sleep(0.1)
    assert body["session"]["close_reason"] == "shell_exited"
    status, page, _ = live.request("GET", sess["url"], op_token)
    assert status == 200 and b"Disconnected (shell exited)" in page and b"Connected<" not in page
