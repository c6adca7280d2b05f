"""deploy/nginx/recon.conf, run by a real nginx (Debian's package) in front of RECON under
gunicorn, over TLS with a self-signed certificate made here: login and API, unbuffered SSE,
the terminal WebSocket upgrade, forwarded addresses trusted only from nginx, and 140
half-sent requests that neither slow /healthz down nor survive nginx's header timeout."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import time
from urllib.parse import urlencode

import pytest
from helpers import Gunicorn
from nginx_server import CONF, NGINX, Nginx, self_signed, site_conf  # noqa: F401 - re-exported
from terminal_fixtures import close_all
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, Request, TextMessage

from recon.auth.accounts import create_user

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.skipif(not os.path.exists(NGINX),
                                reason="nginx is not installed (make test installs it)")


@pytest.fixture
def stack(make_app, target_info, term_env, tmp_path):
    app = make_app([target_info])
    with app.app_context():
        create_user("nadia", PASSWORD, "operator")
    guni = Gunicorn(app, workers=2, env={"RECON_TRUSTED_PROXIES": "127.0.0.1",
                                         "RECON_SECURE_COOKIES": "1"}).start()
    nginx = Nginx(tmp_path, guni.port)
    yield app, guni, nginx
    nginx.stop()
    guni.stop()
    close_all(app)


def login(nginx: Nginx) -> str:
    status, page, resp = nginx.request("GET", "/login")
    cookie = resp.getheader("Set-Cookie").split(";")[0]
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    status, _, resp = nginx.request(
        "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded",
                           "Cookie": cookie},
        urlencode({"username": "nadia", "password": PASSWORD, "csrf_token": csrf}))
    assert status == 302, status
    set_cookie = resp.getheader("Set-Cookie")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie
    return set_cookie.split(";")[0]


def test_login_and_api_through_nginx_over_tls(stack):
    app, _, nginx = stack
    cookie = login(nginx)
    status, body, _ = nginx.request("GET", "/api/me", {"Cookie": cookie})
    assert status == 200 and json.loads(body)["username"] == "nadia"
    token = app.config["TEST_TOKENS"]["viewer"]
    status, body, _ = nginx.request("GET", "/api/services",
                                    {"Authorization": f"Bearer {token}"})
    assert status == 200 and json.loads(body)["services"]
    status, _, resp = nginx.request("GET", "/login")
    assert "frame-ancestors 'none'" in resp.getheader("Content-Security-Policy")


def failed_login(connect) -> None:
    """A wrong password with a valid form (so it is audited), with a spoofed header."""
    spoof = {"X-Forwarded-For": "6.6.6.6"}
    conn = connect()
    conn.request("GET", "/login", headers=spoof)
    resp = conn.getresponse()
    page = resp.read()
    cookie = resp.getheader("Set-Cookie").split(";")[0]
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    conn.request("POST", "/login", body=urlencode(
        {"username": "nadia", "password": "wrong-password", "csrf_token": csrf}),
        headers={**spoof, "Cookie": cookie,
                 "Content-Type": "application/x-www-form-urlencoded"})
    assert conn.getresponse().status == 401
    conn.close()


def test_forwarded_addresses_are_trusted_only_from_nginx(stack):
    app, guni, nginx = stack
    # Through nginx from 127.0.0.3: nginx overwrites the header with the real peer, and
    # RECON (nginx's 127.0.0.1 is a trusted proxy) takes the client's address from it.
    failed_login(lambda: nginx.connect("127.0.0.3"))
    # Straight to gunicorn from 127.0.0.2, not a trusted proxy: the header is ignored.
    failed_login(lambda: http.client.HTTPConnection("127.0.0.1", guni.port, timeout=10,
                                                    source_address=("127.0.0.2", 0)))
    with app.app_context():
        from recon.audit.models import AuditEntry
        from recon.db.extensions import db
        rows = db.session.scalars(db.select(AuditEntry.remote_addr).where(
            AuditEntry.action == "login")).all()
    assert sorted(rows) == ["127.0.0.2", "127.0.0.3"]


def test_sse_passes_unbuffered(stack):
    app, _, nginx = stack
    token = app.config["TEST_TOKENS"]["viewer"]
    conn = nginx.connect(timeout=10)
    started = time.monotonic()
    conn.request("GET", "/api/services/demo-web/logs/stream?lines=0",
                 headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")
    first = resp.read1(200)  # a few dozen bytes: arrives only if nothing buffers them
    assert b"retry:" in first and time.monotonic() - started < 3
    conn.close()


def test_websocket_upgrade_passes(stack):
    app, _, nginx = stack
    token = app.config["TEST_TOKENS"]["operator"]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, body, _ = nginx.request("POST", "/api/terminals", auth,
                                    json.dumps({"host": "demo"}))
    assert status == 201, body
    url = json.loads(body)["session"]["url"]
    status, tok, _ = nginx.request("GET", url + "tty/token", auth)
    raw = socket.create_connection(("127.0.0.1", nginx.https), timeout=10)
    sock = nginx.ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    ws = WSConnection(ConnectionType.CLIENT)
    host = f"127.0.0.1:{nginx.https}"
    sock.sendall(ws.send(Request(host=host, target=url + "tty/ws", subprotocols=["tty"],
                                 extra_headers=[("Authorization", f"Bearer {token}"),
                                                ("Origin", f"https://{host}")])))
    accepted, output = False, b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and b"via-nginx-42" not in output:
        data = sock.recv(65536)
        assert data, "nginx closed the WebSocket"
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, AcceptConnection):
                accepted = True
                sock.sendall(ws.send(TextMessage(data=json.dumps(
                    {"AuthToken": json.loads(tok)["token"], "columns": 80, "rows": 24}))))
                sock.sendall(ws.send(BytesMessage(data=b"0echo via-nginx-$((40+2))\r")))
            elif isinstance(event, BytesMessage) and event.data[:1] == b"0":
                output += event.data[1:]
    sock.close()
    assert accepted and b"via-nginx-42" in output


def test_half_sent_requests_do_not_stop_healthz_and_are_cut(stack):
    _, _, nginx = stack
    slow = []
    for _ in range(140):
        raw = socket.create_connection(("127.0.0.1", nginx.https), timeout=10)
        sock = nginx.ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
        slow.append(sock)
    times = []
    for _ in range(5):
        started = time.monotonic()
        assert nginx.request("GET", "/healthz")[0] == 200
        times.append(time.monotonic() - started)
    assert max(times) < 1.0, times
    # nginx's client_header_timeout (3 s here, 10 s shipped) cuts them all.
    time.sleep(4)
    cut = 0
    for sock in slow:
        sock.settimeout(2)
        try:
            cut += sock.recv(100) == b""
        except (OSError, ssl.SSLError):
            cut += 1
        sock.close()
    assert cut == 140
