"""``/terminals/<id>/tty/...``: the only way to a ttyd. Owner-only; injects the credential.

Plain HTTP (the page, ``/token``) is forwarded to ttyd's UNIX socket with ``Authorization``
replaced by the session's Basic credential and the dashboard's cookies dropped; the
WebSocket upgrade additionally needs an ``Origin`` of the dashboard itself (cross-site
WebSocket hijacking), then :mod:`.websocket` relays it. A closed session answers 410 and an
unknown or foreign one 404 at once, never a hang; so does a session of another server (a
replica): 421 while it runs, 410 once it is gone (:mod:`.placement`).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, request

from recon.core.errors import ApiError, NotFound
from recon.db.extensions import db
from recon.recordings import store as recordings
from recon.terminals import manager, placement, ttyd, websocket
from recon.terminals.models import TerminalSession
from recon.web import slots as holds
from recon.web.policy import current_user
from recon.web.security import TTYD_CSP

log = logging.getLogger("recon.terminals.proxy")
_PASS_HEADERS = ("Content-Type", "Content-Encoding", "ETag", "Last-Modified", "Location")


def owned_session(session_id: str, *, live: bool = True) -> TerminalSession:
    """The caller's session; 404 if unknown or someone else's, 410 if closed."""
    sess = manager.get(session_id)
    if sess is None or sess.user != current_user().username:
        raise NotFound("terminal", "no such terminal session",
                       "GET /api/terminals lists your open terminals.")
    if live and sess.closed_at is not None:
        if sess.close_reason == placement.SERVER_GONE_REASON:
            raise placement.gone_error(sess)
        raise ApiError(410, "terminal_closed",
                       f"this terminal was closed ({sess.close_reason})",
                       "Open a new terminal from the dashboard.",
                       close_reason=sess.close_reason)
    return sess


def placed_here(sess: TerminalSession) -> bool:
    """True if this server runs the session's ttyd; False if another server that still runs
    does; raises 410 ``terminal_server_gone`` (closing the session) if its server is gone."""
    where = placement.locate(sess)
    if where == placement.GONE:
        manager.close(sess.id, placement.SERVER_GONE_REASON)
        raise placement.gone_error(sess)
    return where == placement.HERE


def _served_here(sess: TerminalSession) -> TerminalSession:
    """The session, if this server runs its ttyd; else the answer that says where it is."""
    if not placed_here(sess):
        raise placement.elsewhere_error(sess)
    return sess


def _gone(sess: TerminalSession) -> ApiError:
    """ttyd does not answer: if its process died, close the session now and say so."""
    if not manager.process_ok(sess) and sess.status == "live":
        manager.close(sess.id, "process_exited")
        return ApiError(410, "terminal_closed", "this terminal's process has exited",
                        "Open a new terminal from the dashboard.",
                        close_reason="process_exited")
    return ApiError(502, "terminal_unreachable", "the terminal process does not answer",
                    "Try again in a moment, or close this terminal and open a new one.")


def http(sess: TerminalSession) -> Response:
    """Forward a GET/HEAD to ttyd."""
    _served_here(sess)
    target = request.full_path if request.query_string else request.path
    headers = {"Authorization": ttyd.basic_header(manager.credential(sess.id))}
    if "Accept-Encoding" in request.headers:
        headers["Accept-Encoding"] = request.headers["Accept-Encoding"]
    conn = ttyd.UnixHTTPConnection(sess.socket_path, timeout=10.0)
    try:
        conn.request(request.method, target, headers=headers)
        upstream = conn.getresponse()
        body = upstream.read()
    except OSError:
        raise _gone(sess) from None
    finally:
        conn.close()
    if upstream.status == 401:
        raise ApiError(502, "terminal_auth_failed", "ttyd refused RECON's credential",
                       "Close this terminal and open a new one.")
    resp = Response(body, status=upstream.status)
    for name in _PASS_HEADERS:
        value = upstream.getheader(name)
        if value is not None:
            resp.headers[name] = value
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # Framed by RECON's terminal page only (recon.web.security sets DENY everywhere else).
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["Content-Security-Policy"] = TTYD_CSP
    return resp


def same_origin() -> bool:
    """The upgrade comes from a page of this dashboard (scheme and host:port)."""
    origin = request.headers.get("Origin")
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.netloc.lower() == request.host.lower() and parts.scheme in ("http", "https")


def _upgradable_socket() -> tuple[socket.socket, str]:
    """The browser's socket, once the upgrade is known to come from our page and this
    server can hand the socket over."""
    if not same_origin():
        raise ApiError(403, "bad_origin", "WebSocket upgrade from a foreign origin refused",
                       "Open the terminal from the dashboard's own page.")
    found = websocket.server_socket(request.environ)
    if found is None:
        raise ApiError(501, "websocket_unsupported",
                       "this server cannot hand over the connection for a WebSocket",
                       "Run RECON under gunicorn (make run) or the werkzeug dev server.")
    return found


def _connect_ttyd(sess: TerminalSession) -> tuple[socket.socket, Any, list[Any]]:
    """The WebSocket to the session's ttyd, or the error that says why there is none."""
    try:
        return websocket.connect_upstream(
            sess.socket_path, request.path, ttyd.basic_header(manager.credential(sess.id)))
    except websocket.HandshakeError as exc:
        if manager.process_ok(sess):  # ttyd runs but refused: --max-clients 1
            raise ApiError(409, "terminal_in_use", "this terminal is already open in another "
                           "window (one client per terminal)",
                           "Close the other window, or open a new terminal.") from None
        raise ApiError(exc.status, "terminal_unreachable", exc.message,
                       "Close this terminal and open a new one.") from None
    except OSError:
        raise _gone(sess) from None


def _activity_recorder(session_id: str) -> Callable[[], None]:
    def on_activity() -> None:
        try:
            manager.touch(session_id)
            db.session.commit()
        except Exception:  # a busy database must not cut the user's terminal
            db.session.rollback()
            log.exception("recording terminal activity failed")
    return on_activity


def _revocation_poll(session_id: str) -> Callable[[], bool]:
    def revoked() -> bool:
        """Polled by the relay: the session was closed (by its owner, the GC, a logout, a
        user change) in any worker. Closing also kills ttyd, which ends the relay at once;
        this poll is the guarantee when the relay runs elsewhere than the close."""
        try:
            return not manager.still_open(session_id)
        except Exception:
            db.session.rollback()
            return False
    return revoked


def _close_if_shell_exited(session_id: str, relay: websocket.Relay) -> None:
    """ttyd ended the WebSocket: the shell exited (ttyd serves one client, so the session is
    spent). The page shows "Disconnected (shell exited)"."""
    if relay.ended_by != "up":
        return
    try:
        manager.close(session_id, "shell_exited")
    except Exception:
        db.session.rollback()
        log.exception("closing terminal %s after its shell exited failed", session_id)


def websocket_view(sess: TerminalSession) -> Response:
    """Check, connect to ttyd, take over the socket and relay until either side ends."""
    sock, mode = _upgradable_socket()
    down_ws = websocket.parse_upgrade(request.environ)  # a HandshakeError renders itself
    _served_here(sess)
    hold = holds.acquire("terminal", current_user().username)
    try:
        up, up_ws, early = _connect_ttyd(sess)
    except BaseException:
        holds.release(hold)
        raise
    session_id = sess.id
    interval = max(0.2, min(5.0, manager.settings().terminal_idle_seconds / 4))
    tap = recordings.begin(recordings.Session(
        sess.id, sess.user, sess.host, sess.created_at, f"{sess.user} on {sess.host}"))
    db.session.commit()  # end the read transaction: the relay may run for hours
    on_activity = _activity_recorder(session_id)
    relay = websocket.Relay(sock, down_ws, up, up_ws, on_activity, interval,
                            _revocation_poll(session_id),
                            manager.settings().terminal_revoke_check_seconds, tap)
    try:
        websocket.accept(sock, down_ws)
        on_activity()
        relay.run(early)
    except OSError:
        pass  # the browser left before the relay started
    finally:
        up.close()
        recordings.end(session_id, tap)
        _close_if_shell_exited(session_id, relay)
        db.session.remove()
        holds.release(hold)
    current_app.logger.debug("terminal %s WebSocket ended (%s)", session_id, relay.ended_by)
    return websocket.Hijacked(sock, mode)
