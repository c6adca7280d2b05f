"""The session cookie is set at login and then left alone: nginx's replicas file sends a
browser to one replica by hashing it (deploy/nginx/recon-replicas.conf), so a cookie that
changed on every response (Flask re-signs a permanent session with a new timestamp each
request) would send each request -- and a terminal's WebSocket -- to a different replica."""

from __future__ import annotations

import re
import time
from pathlib import Path

from flask import Flask
from pg_cluster import app_database_uri

from recon import create_app
from recon.auth.accounts import create_user

PASSWORD = "correct horse battery"


def _app(tmp_path: Path) -> Flask:
    config = tmp_path / "recon.toml"
    config.write_text("")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})
    with app.app_context():
        create_user("nadia", PASSWORD, "operator")
    return app


def test_the_cookie_set_at_login_is_not_reissued_by_later_requests(tmp_path):
    client = _app(tmp_path).test_client()
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    resp = client.post("/login", data={"username": "nadia", "password": PASSWORD,
                                       "csrf_token": csrf})
    assert resp.status_code == 302
    assert "session=" in resp.headers.get("Set-Cookie", "")
    time.sleep(1.1)  # a re-signed cookie would carry a new timestamp by now
    for path in ("/", "/api/services", "/units", "/"):
        later = client.get(path)
        assert later.status_code == 200, (path, later.status_code)
        assert "Set-Cookie" not in later.headers, (path, later.headers["Set-Cookie"])
