"""Server-Sent Events plumbing shared by the log follow and the fleet event stream."""

from __future__ import annotations

import json
import socket
from typing import Any

ENDED_RETRY_MS = 30000  # after access_ended: a reconnect now would only be refused (401)


def client_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The client's connection, where the WSGI server exposes it (gunicorn, werkzeug)."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    return sock if isinstance(sock, socket.socket) else None


def sse(data: dict[str, Any], *, event: str | None = None, id: str | int | None = None) -> str:
    """One SSE message (``data`` as compact JSON)."""
    head = (f"event: {event}\n" if event else "") + (f"id: {id}\n" if id else "")
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n"


def access_ended() -> str:
    """The last event of a stream whose login ended (logout, revoked token, a deleted or
    demoted user): an ``error`` event, as a server-side refusal is everywhere."""
    return f"retry: {ENDED_RETRY_MS}\n" + sse(
        {"error": "access_ended",
         "message": "the login or API token this stream was opened with has ended (logout, "
                    "revoked, or the user was changed)",
         "hint": "Log in again (or use a valid API token) and reopen the stream."},
        event="error")


def client_gone(sock: socket.socket) -> bool | None:
    """Whether the client closed its side (EOF), without reading its data.

    None means "stop watching": the client sent bytes (a stream client never does) or the
    socket cannot be peeked (TLS); a write then finds out instead.
    """
    try:
        data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except (OSError, ValueError):
        return None
    return None if data else True
