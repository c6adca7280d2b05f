"""A stream ends when the credential that opened it does (issue 24): after a token is revoked,
a logout, a user deleted or demoted, the fleet's event stream and a live log stream opened
with it end within a few seconds -- under gunicorn with 2 workers, where the stream may run
in another worker (or the change come from another process, as the CLI's does) than the
change, so only the database tells it. The stream's last event says why, and its slot is
given back."""

from __future__ import annotations

import json

import pytest
from helpers import Gunicorn, wait_for
from stream_clients import (
    EVENTS,
    bearer,
    call,
    form_login,
    log_stream,
    open_stream,
    read_until_closed,
)

from recon.auth.accounts import create_token, create_user, remove_user, set_role
from recon.web import slots

PASSWORD = "correct horse battery"
ENDS_WITHIN = 8.0  # "a few seconds": the check runs every second; generous for a busy box
STREAMS = {"events": EVENTS, "logs": log_stream("demo-web")}


@pytest.fixture
def served(make_app, target_info):
    app = make_app([target_info])
    with app.app_context():
        create_user("vera", PASSWORD, "operator")
    with Gunicorn(app, workers=2, threads=16) as server:
        yield app, server


def _ends_with_access_ended(opened) -> None:
    ended, seen = read_until_closed(opened, ENDS_WITHIN)
    assert ended, f"the stream still runs {ENDS_WITHIN} s later: {seen[-500:]!r}"
    last = seen.decode().strip().split("\n\n")[-1]
    assert "event: error" in last, last
    data = json.loads(last.split("data: ", 1)[1])
    assert data["error"] == "access_ended" and data["hint"], data


def _held(app) -> int:
    with app.app_context():
        return slots.held()


@pytest.mark.parametrize("kind", sorted(STREAMS))
def test_revoking_the_token_ends_its_streams(served, kind):
    app, server = served
    with app.app_context():
        _, raw = create_token("streamer", "viewer")
    opened = open_stream(server.port, STREAMS[kind], bearer(raw))
    assert opened.status == 200
    assert wait_for(lambda: _held(app) == 1, timeout=5)
    admin = bearer(app.config["TEST_TOKENS"]["admin"])
    assert call(server.port, "DELETE", "/api/tokens/streamer", admin)[0] == 200
    _ends_with_access_ended(opened)
    assert wait_for(lambda: _held(app) == 0, timeout=5)
    assert open_stream(server.port, STREAMS[kind], bearer(raw)).status == 401


@pytest.mark.parametrize("kind", sorted(STREAMS))
def test_logging_out_ends_the_sessions_streams_but_not_another_sessions(served, kind):
    app, server = served
    cookie, csrf = form_login(server.port, "vera", PASSWORD)
    other, _ = form_login(server.port, "vera", PASSWORD)  # vera in another browser
    opened = open_stream(server.port, STREAMS[kind], cookie)
    kept = open_stream(server.port, STREAMS[kind], other)
    assert opened.status == 200 and kept.status == 200
    status, _ = call(server.port, "POST", "/logout",
                     {**cookie, "X-CSRF-Token": csrf, "Accept": "application/json"})
    assert status == 200
    _ends_with_access_ended(opened)
    ended, _ = read_until_closed(kept, 2.0)
    assert not ended, "the other session's stream ended too"
    kept.close()


@pytest.mark.parametrize("kind, change", [("events", "delete"), ("logs", "demote")])
def test_a_user_changed_from_another_process_loses_their_streams(served, kind, change):
    """The change runs in this test's process (as `recon users ...` would), not in gunicorn."""
    app, server = served
    cookie, _ = form_login(server.port, "vera", PASSWORD)
    opened = open_stream(server.port, STREAMS[kind], cookie)
    assert opened.status == 200
    with app.app_context():
        if change == "delete":
            remove_user("vera")
        else:
            set_role("vera", "viewer")
    _ends_with_access_ended(opened)
    if change == "demote":  # still logged in, with the lower role: a new stream opens
        again = open_stream(server.port, STREAMS[kind], cookie)
        assert again.status == 200
        again.close()
