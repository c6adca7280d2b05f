"""Terminal row "as yourself" against real ttyd: open -> shell prompt for a RECON user mapped to
a login of their own on the host (issue 26: <= 300 ms). The login is made on the first host as
the README's host-side steps make it; the mapping is added to the served recon.toml (applied
live) and taken out again afterwards."""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from urllib.parse import urlencode

from recon import create_app
from recon.auth.accounts import create_user
from recon.demo.tree import TERMINAL_USER

from .fleet import Fleet, Server
from .logins import _form
from .stats import stats
from .ttyws import Tty

LOGIN = "bench-mapped"
PASSWORD = "bench-mapped-password"
PROMPT = b"$ "
DROPIN = "/etc/ssh/sshd_config.d/zz-bench-mapped.conf"


def _call(port: int, method: str, path: str, headers: dict, body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hdrs = dict(headers)
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=hdrs)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp.status, json.loads(raw) if raw else {}


def _login(port: int) -> tuple[dict, str]:
    """The login form, as a browser sends it: (the session cookie header, its CSRF token)."""
    cookie, csrf = _form(port)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/login", body=urlencode(
        {"username": LOGIN, "password": PASSWORD, "csrf_token": csrf}),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 302, resp.status
    headers = {"Cookie": resp.getheader("Set-Cookie").split(";")[0]}
    _, me = _call(port, "GET", "/api/me", headers)
    return headers, me["csrf_token"]


def _make_login(host) -> None:
    host.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash",
              "--groups", "systemd-journal", LOGIN])
    host.run(["usermod", "-p", "*", LOGIN])
    host.run(["install", "-d", "-m", "0700", "-o", LOGIN, "-g", LOGIN, f"/home/{LOGIN}/.ssh"])
    # key = "dashboard": the same public key the shared terminal login has
    dashboard = host.path(f"/home/{TERMINAL_USER}/.ssh/authorized_keys").read_text()
    keys = host.path(f"/home/{LOGIN}/.ssh/authorized_keys")
    keys.write_text(dashboard)
    keys.chmod(0o600)
    host.run(["chown", f"{LOGIN}:{LOGIN}", f"/home/{LOGIN}/.ssh/authorized_keys"])
    host.path(DROPIN).write_text(f"AllowUsers {LOGIN}\n")
    host.systemctl("reload", "ssh.service")


def _drop_login(host) -> None:
    host.path(DROPIN).unlink(missing_ok=True)
    host.systemctl("reload", "ssh.service")
    host.run(["pkill", "-KILL", "-u", LOGIN], check=False)
    host.run(["userdel", "--remove", LOGIN], check=False)


def bench_mapped_prompt(f: Fleet, srv: Server, n: int) -> dict:
    if not os.environ.get("TTYD_PATH"):
        return {"skipped": "no TTYD_PATH (real ttyd 1.7 needed)"}
    host = f.hosts[0]
    app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": str(srv.config),
                      "SQLALCHEMY_DATABASE_URI": srv.database})
    with app.app_context():
        create_user(LOGIN, PASSWORD, "operator")
    original = srv.config.read_text()
    _make_login(host)
    srv.config.write_text(original + f'\n[terminals.users]\n"{LOGIN}" = {{ login = "{LOGIN}", '
                          'key = "dashboard" }\n')
    try:
        time.sleep(3)  # every process applies the edited file within a second or two
        headers, csrf = _login(srv.port)
        posting = {**headers, "X-CSRF-Token": csrf}
        prompt = []
        for i in range(n):
            t0 = time.monotonic()
            status, body = _call(srv.port, "POST", "/api/terminals", posting, {"host": host.name})
            assert status in (200, 201), body
            sess = body["session"]
            status, tok = _call(srv.port, "GET", sess["url"] + "tty/token", headers)
            assert status == 200, tok
            sock = socket.create_connection(("127.0.0.1", srv.port))
            tty = Tty(sock, f"127.0.0.1:{srv.port}", sess["url"] + "tty/ws",
                      {**headers, "Origin": f"http://127.0.0.1:{srv.port}"})
            tty.hello(tok["token"])
            tty.read_until(PROMPT)
            prompt.append((time.monotonic() - t0) * 1000)
            if i == 0:  # the row is worth nothing unless the shell really is the mapped login
                _, ident = _call(srv.port, "GET", f"/api/terminals/{sess['id']}/identity",
                                 headers)
                assert ident["login"] == LOGIN and ident["mapped"], ident
            tty.close()
            _call(srv.port, "DELETE", f"/api/terminals/{sess['id']}", posting)
    finally:
        srv.config.write_text(original)
        _drop_login(host)
    return {"login": LOGIN, "key": "dashboard", "create_to_prompt_ms": stats(prompt)}
