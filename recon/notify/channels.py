"""Sending one message through one channel: a JSON webhook, a Slack/Mattermost incoming
webhook, or mail through an SMTP relay. Standard library only (urllib, hmac, smtplib).

Every failure is a :class:`DeliveryError` whose text has the channel's secrets scrubbed out,
so it can be stored, audited and shown.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from recon.config.notify import ChannelConfig

SIGNATURE_HEADER = "X-Recon-Signature"
USER_AGENT = "RECON-notify/1"


class DeliveryError(Exception):
    """A delivery that did not go through; ``code`` is stable, ``message`` is scrubbed."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def scrub(text: str, channel: ChannelConfig) -> str:
    """``text`` with every secret of the channel replaced by ``<redacted>``."""
    for secret in channel.secrets():
        text = text.replace(secret, "<redacted>")
    return text


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(channel: ChannelConfig, payload: dict[str, Any]) -> str:
    """Deliver ``payload`` (see ``NotifyDelivery.payload``); returns a short receipt."""
    try:
        if channel.type == "email":
            return _email(channel, payload)
        if channel.type == "slack":
            body = {"text": f"*{payload['title']}*\n{payload['text']}"}
        else:
            body = payload
        return _post(channel, json.dumps(body, sort_keys=True).encode(), payload)
    except DeliveryError as exc:
        raise DeliveryError(exc.code, scrub(exc.message, channel)) from None
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        raise DeliveryError("delivery_failed",
                            scrub(f"{type(exc).__name__}: {exc}", channel)) from None


def _post(channel: ChannelConfig, body: bytes, payload: dict[str, Any]) -> str:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-Recon-Event": str(payload.get("event")),
               "X-Recon-Delivery": str(payload.get("delivery"))}
    if channel.type == "webhook" and channel.secret:
        headers[SIGNATURE_HEADER] = sign(channel.secret, body)
    request = urllib.request.Request(channel.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=channel.timeout) as resp:  # noqa: S310
            resp.read(4096)
            return f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        raise DeliveryError("http_error", f"the receiver answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise DeliveryError("unreachable", f"cannot reach the receiver: {exc.reason}") from None
    except TimeoutError:
        raise DeliveryError("timeout", f"no answer within {channel.timeout:g} s") from None


def _email(channel: ChannelConfig, payload: dict[str, Any]) -> str:
    msg = EmailMessage()
    msg["Subject"] = payload["title"]
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain="recon")
    msg["X-Recon-Event"] = str(payload.get("event"))
    msg["X-Recon-Delivery"] = str(payload.get("delivery"))
    msg.set_content(f"{payload['text']}\n\n-- \nRECON ({payload.get('at')})\n")
    context = ssl.create_default_context(cafile=channel.ca_file or None)
    try:
        if channel.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(channel.smtp_host, channel.smtp_port,
                                                  timeout=channel.timeout, context=context)
        else:
            smtp = smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=channel.timeout)
        with smtp:
            if channel.security == "starttls":
                smtp.starttls(context=context)
            if channel.username:
                smtp.login(channel.username, channel.password)
            refused = smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError("auth_failed", f"the relay refused the login ({exc.smtp_code})") \
            from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError("starttls_unsupported",
                            "the relay does not offer STARTTLS (security = \"starttls\")") \
            from None
    except ssl.SSLError as exc:
        raise DeliveryError("tls_failed", f"TLS with the relay failed: {exc.reason}") from None
    if refused:
        raise DeliveryError("recipients_refused", f"refused: {', '.join(sorted(refused))}")
    return f"mail to {len(channel.to)} recipient(s)"
