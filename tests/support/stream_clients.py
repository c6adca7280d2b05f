"""Clients of RECON's long-lived responses over real sockets (Server-Sent Events: the fleet's
``/api/events`` and a service's ``/logs/stream``), for tests against a live server."""

from __future__ import annotations

import http.client
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

EVENTS = "/api/events"


def log_stream(slug: str) -> str:
    return f"/api/services/{slug}/logs/stream?lines=0"


@dataclass
class Opened:
    """One stream request: its status and, for a refusal, the JSON body; ``conn`` stays open
    (a 200 keeps its server thread busy until closed). ``status`` is None when no answer
    came within the timeout (the request is queued behind busy threads)."""

    conn: http.client.HTTPConnection
    status: int | None
    body: dict | None = None
    resp: http.client.HTTPResponse | None = None
    seen: bytearray = field(default_factory=bytearray)
    ended: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None

    def close(self) -> None:
        self.conn.close()


def open_stream(port: int, path: str, headers: dict, timeout: float = 10) -> Opened:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
    except TimeoutError:
        return Opened(conn, None)
    if resp.status != 200:
        raw = resp.read()
        ctype = resp.getheader("Content-Type", "")
        return Opened(conn, resp.status, json.loads(raw) if "json" in ctype else None, resp)
    return Opened(conn, 200, None, resp)


def open_many(port: int, path: str, headers_list: list[dict], timeout: float = 10
              ) -> list[Opened]:
    """Open one stream per headers dict, all at once (one thread each)."""
    with ThreadPoolExecutor(max_workers=len(headers_list)) as pool:
        return list(pool.map(lambda h: open_stream(port, path, h, timeout), headers_list))


def read_until_closed(opened: Opened, seconds: float) -> tuple[bool, bytes]:
    """Read the stream until the server ends it or ``seconds`` pass: (ended, what came so
    far). A thread reads (a timed-out read would spoil the response), so this can be called
    again to wait longer."""
    assert opened.resp is not None and opened.status == 200
    if opened.reader is None:
        opened.reader = threading.Thread(target=_drain, args=(opened,), daemon=True)
        opened.reader.start()
    opened.ended.wait(seconds)
    return opened.ended.is_set(), bytes(opened.seen)


def _drain(opened: Opened) -> None:
    opened.conn.sock.settimeout(None)
    try:
        while chunk := opened.resp.read1(65536):
            opened.seen += chunk
    except (OSError, ValueError, AttributeError, http.client.HTTPException):
        pass  # closed under us, or the server cut the body
    opened.ended.set()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def form_login(port: int, username: str, password: str) -> tuple[dict, str]:
    """Log in through the form: (headers with the session cookie, the session's CSRF token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/login")
        resp = conn.getresponse()
        page = resp.read()
        cookie = resp.getheader("Set-Cookie").split(";")[0]
        csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        conn.request("POST", "/login", body=urlencode(
            {"username": username, "password": password, "csrf_token": csrf}),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 302, resp.status
        cookie = resp.getheader("Set-Cookie").split(";")[0]
        conn.request("GET", "/api/me", headers={"Cookie": cookie})
        me = json.loads(conn.getresponse().read())
        return {"Cookie": cookie}, me["csrf_token"]
    finally:
        conn.close()


def call(port: int, method: str, path: str, headers: dict | None = None,
         body: dict | None = None, timeout: float = 10) -> tuple[int, dict | bytes]:
    """One plain request; a JSON answer is decoded. A timeout raises (the caller's bound)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("Content-Type", "")
        return resp.status, json.loads(raw) if "json" in ctype and raw else raw
    finally:
        conn.close()
