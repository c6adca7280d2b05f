"""Threads held by long-lived responses (issue 12): one user's terminals and log streams
together are capped by settings.held_threads_per_user (and log streams by
log_streams_per_user); another user is not affected."""

from __future__ import annotations

import dataclasses

import pytest
from terminal_fixtures import LiveServer, Rejected, attach, close_all, open_terminal, token_for


def test_threads_held_per_user_are_capped_across_terminals_and_log_streams(
        make_app, target_info, term_env, monkeypatch):
    monkeypatch.setenv("RECON_HELD_THREADS_PER_USER", "2")
    monkeypatch.setenv("RECON_LOG_STREAMS_PER_USER", "1")
    infos = [target_info, dataclasses.replace(target_info, name="b")]
    app = make_app(infos)
    live = LiveServer(app)
    token = token_for(app, "capped")
    other = token_for(app, "other")
    try:
        import http.client
        streams = []

        def stream(tok):
            conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
            conn.request("GET", "/api/services/demo-demo-web/logs/stream?lines=0",
                         headers={"Authorization": f"Bearer {tok}"})
            resp = conn.getresponse()
            streams.append(conn)
            return resp

        first = stream(token)
        assert first.status == 200
        assert b"following" in first.read1(200)
        second = stream(token)  # log_streams_per_user = 1
        assert second.status == 429
        import json
        body = json.loads(second.read())
        assert body["error"] == "too_many_streams" and body["hint"]
        a = attach(live, token, open_terminal(live, token))
        a.read_until(b"$ ")
        with pytest.raises(Rejected) as third:  # 1 stream + 1 terminal = 2 per user
            attach(live, token, open_terminal(live, token, host="b"))
        assert third.value.status == 429 and b"too_many_streams" in third.value.body
        assert stream(other).status == 200  # another user is not affected
        for conn in streams:
            conn.close()
        a.close()
    finally:
        live.stop()
        close_all(app)
