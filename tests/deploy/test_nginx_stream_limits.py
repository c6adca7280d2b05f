"""deploy/nginx/recon.conf's stream limits (issue 24), run by a real nginx in front of gunicorn:
one address opening more event streams than its ``limit_conn`` gets nginx's own 429 with a
JSON error for the rest (RECON's caps lifted here, so only nginx refuses), and /healthz is
answered meanwhile."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import Gunicorn
from nginx_server import CONF, NGINX, Nginx

_LIMIT = re.search(r"limit_conn recon_streams_per_addr (\d+);", CONF.read_text())
PER_ADDRESS = int(_LIMIT[1]) if _LIMIT else 32  # the shipped value
LIFTED = {"RECON_EVENT_STREAMS_PER_USER": "1000", "RECON_HELD_THREADS_PER_USER": "1000",
          "RECON_HELD_THREADS_PER_PROCESS": "1000", "RECON_HELD_THREADS_MAX": "1000"}
pytestmark = pytest.mark.skipif(not NGINX or not CONF.exists(), reason="nginx is not installed")


@pytest.fixture
def proxied(make_app, target_info, tmp_path, monkeypatch):
    for name, value in LIFTED.items():
        monkeypatch.setenv(name, value)
    app = make_app([target_info])
    guni = Gunicorn(app, workers=2, threads=64,
                    env={"RECON_TRUSTED_PROXIES": "127.0.0.1"}).start()
    nginx = Nginx(tmp_path, guni.port)
    yield app, nginx
    nginx.stop()
    guni.stop()


def test_nginx_refuses_streams_past_its_limit_per_address_with_a_json_429(proxied):
    app, nginx = proxied
    token = app.config["TEST_TOKENS"]["viewer"]

    def open_events(_):
        conn = nginx.connect(timeout=10)
        conn.request("GET", "/api/events", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        body = None if resp.status == 200 else (resp.getheader("Content-Type"), resp.read())
        return conn, resp.status, body

    with ThreadPoolExecutor(max_workers=PER_ADDRESS + 8) as pool:
        opened = list(pool.map(open_events, range(PER_ADDRESS + 8)))
    try:
        statuses = [status for _, status, _ in opened]
        assert statuses.count(200) == PER_ADDRESS, statuses
        assert statuses.count(429) == 8, statuses
        for _, status, body in opened:
            if status == 429:
                ctype, raw = body
                assert ctype == "application/json", ctype
                error = json.loads(raw)
                assert error["error"] == "too_many_streams" and error["hint"]
                assert "nginx" in error["message"]
        assert nginx.request("GET", "/healthz")[0] == 200
    finally:
        for conn, _, _ in opened:
            conn.close()
