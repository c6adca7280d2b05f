"""A live log stream whose channel is numbered past 1023 follows and ends normally (its
wait was select(), which refuses such descriptors)."""

from __future__ import annotations

from conftest import build_app, client_for
from descriptors import descriptor_filler

from recon.web.context import runtime


def test_a_log_stream_with_a_channel_past_1023_runs_to_its_end(tmp_path, target, monkeypatch):
    monkeypatch.setenv("RECON_LOG_STREAM_MAX_SECONDS", "1")
    app = build_app(tmp_path, [target.info])
    try:
        client = client_for(app, "viewer")
        with descriptor_filler() as fill:
            fill()
            resp = client.get("/api/services/demo-web/logs/stream?lines=0&priority=emerg",
                              buffered=False)
            body = b"".join(resp.response)
            resp.close()
        assert b"following demo-web" in body
        assert b"event: end" in body and b'"reason":"max_duration"' in body
    finally:
        app.extensions["recon.logs"].hub.close_all()
        runtime(app).executor.close_all()
