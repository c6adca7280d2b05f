"""deploy/nginx/recon.conf drops a client's user header (issue 24, item 2): with
RECON_PROXY_USER_HEADER set, RECON trusts that header from nginx's address, so nobody may
send it through nginx; an auth proxy in front of RECON sets it instead."""

from __future__ import annotations

import http.client
import json
import os

import pytest
from helpers import Gunicorn
from nginx_server import NGINX, Nginx

from recon.auth.accounts import create_user

pytestmark = pytest.mark.skipif(not os.path.exists(NGINX),
                                reason="nginx is not installed (make test installs it)")


def test_a_user_header_sent_through_nginx_names_nobody(make_app, target_info, tmp_path):
    app = make_app([target_info])
    with app.app_context():
        create_user("nadia", "correct horse battery", "operator")
    env = {"RECON_TRUSTED_PROXIES": "127.0.0.1", "RECON_PROXY_USER_HEADER": "X-Remote-User"}
    with Gunicorn(app, workers=1, env=env) as guni:
        nginx = Nginx(tmp_path, guni.port)
        try:
            status, body, _ = nginx.request("GET", "/api/me", {"X-Remote-User": "nadia"})
        finally:
            nginx.stop()
        # The same header from the trusted address itself does name the user: what an auth
        # proxy in nginx's place (or in front of it, setting the header) relies on.
        direct = http.client.HTTPConnection("127.0.0.1", guni.port, timeout=10)
        direct.request("GET", "/api/me", headers={"X-Remote-User": "nadia"})
        trusted = direct.getresponse()
        me = json.loads(trusted.read())
        direct.close()
    assert trusted.status == 200 and me["username"] == "nadia" and me["via"] == "proxy"
    assert status == 401, body
    assert json.loads(body)["error"] == "unauthenticated"
