"""Real receivers for notification tests: an HTTP server for webhooks (checks the HMAC
signature) and an SMTP server (aiosmtpd) with STARTTLS and login; ``hook_toml`` writes the
channel that points at a webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from helpers import free_port


class WebhookReceiver:
    """Records every POST: ``(arrived, headers, json body, signature_ok)``."""

    def __init__(self, secret: str = "", status: int = 200) -> None:
        self.secret, self.status = secret, status
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body,
                                                hashlib.sha256).hexdigest()
                receiver.received.append({
                    "arrived": time.time(), "path": self.path, "headers": dict(self.headers),
                    "body": json.loads(body),
                    "signature_ok": hmac.compare_digest(
                        self.headers.get("X-Recon-Signature", ""), expected)})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, event: str | None = None) -> list[dict[str, Any]]:
        return [r["body"] for r in self.received
                if event is None or r["body"].get("event") == event]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (openssl), and its key."""
    cert, key = folder / "smtp.crt", folder / "smtp.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1: STARTTLS required, AUTH (over TLS only) with one login."""

    def __init__(self, folder: Path, user: str, password: str) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.cert, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.messages: list[dict[str, Any]] = []
        self.logins: list[tuple[str, bool]] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                receiver.messages.append({
                    "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                    "data": envelope.content.decode("utf-8", "replace"),
                    "tls": session.ssl is not None, "login": session.login_data})
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode(), auth_data.password.decode()) == (user, password)
            receiver.logins.append((auth_data.login.decode(), ok))
            return AuthResult(success=ok)

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     tls_context=context, require_starttls=True,
                                     authenticator=authenticator, auth_required=True,
                                     auth_require_tls=True)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def hook_toml(name: str, url: str, **keys: object) -> str:
    """The recon.toml table of a webhook channel ``name`` that posts to ``url`` (for a test
    app's ``extra_toml``); ``keys`` are further keys of the table."""
    lines = [f"\n[notify.{name}]", 'type = "webhook"', f'url = "{url}"']
    for key, value in keys.items():
        lines.append(f"{key} = {value!r}".replace("'", '"'))
    return "\n".join(lines) + "\n"
