"""Routes of the terminals blueprint: the JSON API, the terminal page and the ttyd proxy."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from recon.audit import store as audit
from recon.auth.guard import auth_ref
from recon.core.clock import now
from recon.core.errors import ApiError, InvalidBody
from recon.db.extensions import db
from recon.terminals import endings, manager, placement, proxy
from recon.web.context import runtime
from recon.web.policy import current_user, require_role

bp = Blueprint("terminals", __name__)


def _describe(sess) -> dict:
    """The session for the API and the page; ``ended`` says how ssh ended, once it did."""
    s = manager.settings()
    ended = endings.describe(sess.end_code, sess.end_status, sess.end_detail,
                             runtime().config.hosts.get(sess.host), sess.host)
    return {**sess.to_dict(), "heartbeat_seconds": s.terminal_heartbeat_seconds,
            "idle_seconds": s.terminal_idle_seconds,
            # what the page tells its user: this session's output (and input) is recorded
            "recorded": s.terminal_recording,
            "input_recorded": s.terminal_recording and s.terminal_record_input,
            "ended": ended,
            # closed because the server that ran it is gone (a replica died): what and where
            "server_gone": placement.gone_words(sess)
            if sess.close_reason == placement.SERVER_GONE_REASON else None}


def _recording_note(session_id: str) -> str:
    """The audit entry's link to the session's recording (the replay page, admins only)."""
    if not manager.settings().terminal_recording:
        return ""
    return f"; recording /recordings/{session_id}"


@bp.post("/api/terminals")
@require_role("operator")
def create_terminal():
    """``{host}`` → a live shell session: 201 with a new one, 200 when the caller's open
    session for that host is reused."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidBody("send a JSON object {host, mode}",
                          'e.g. {"host": "web1", "mode": "shell"}')
    host = body.get("host")
    try:
        created = manager.create(current_user().username, host, body.get("mode", "shell"),
                                 auth_ref())
    except ApiError as exc:
        if exc.status in (409, 429, 500, 502, 503):
            audit.record("terminal.open", success=False, host=str(host)[:64], error=exc.code)
        raise
    if not created.reused:
        audit.record("terminal.open", success=True, host=host,
                     output=f"session {created.session.id} ({created.session.mode})"
                     + _recording_note(created.session.id))
    out = {"session": _describe(created.session), "reused": created.reused}
    return jsonify(out), 200 if created.reused else 201


@bp.get("/api/terminals")
@require_role("operator")
def list_terminals():
    """The caller's open sessions."""
    mine = manager.open_sessions(current_user().username)
    return jsonify({"terminals": [_describe(s) for s in mine],
                    "limit": manager.settings().terminal_max_sessions_per_user})


@bp.get("/api/terminals/metrics")
@require_role("operator")
def terminal_metrics():
    return jsonify(manager.metrics())


@bp.get("/api/terminals/<session_id>")
@require_role("operator")
def get_terminal(session_id: str):
    """The session, open or closed; one whose server is gone (a replica died) is closed now,
    so its page (which reads this every second) says so even before the GC's pass."""
    return jsonify({"session": _describe(_current(session_id)[0])})


def _current(session_id: str):
    """The caller's session (open or closed) and where it runs; one whose server is gone is
    closed first, so what is shown says so even before the GC's pass."""
    sess = proxy.owned_session(session_id, live=False)
    where = placement.locate(sess) if sess.closed_at is None else None
    if where == placement.GONE:
        manager.close(sess.id, placement.SERVER_GONE_REASON)
        sess = proxy.owned_session(session_id, live=False)
    return sess, where


@bp.post("/api/terminals/<session_id>/heartbeat")
@require_role("operator")
def heartbeat(session_id: str):
    """The page is still open: keeps the session from the idle timeout (not from the TTL)."""
    sess = proxy.owned_session(session_id)
    # Another live server's terminal: its page keeps it from the idle timeout all the same.
    if proxy.placed_here(sess) and not manager.process_ok(sess) and sess.status == "live":
        manager.close(sess.id, "process_exited")
        sess = proxy.owned_session(session_id)  # raises 410
    manager.touch(sess.id)
    db.session.commit()
    remaining = sess.expires_at - now()
    return jsonify({"session": _describe(manager.get(sess.id)),
                    "expires_in": max(0, round(remaining, 1))})


@bp.delete("/api/terminals/<session_id>")
@require_role("operator")
def close_terminal(session_id: str):
    sess = proxy.owned_session(session_id)
    if not manager.close(sess.id, "user"):
        proxy.owned_session(session_id)  # closed meanwhile: 410
    audit.record("terminal.close", success=True, host=sess.host,
                 output=f"session {sess.id}: user" + _recording_note(sess.id))
    return jsonify({"session": _describe(manager.get(sess.id))})


@bp.get("/terminals/<session_id>/")
@require_role("operator")
def page(session_id: str):
    sess, where = _current(session_id)
    described = _describe(sess)
    ended = described["ended"] if sess.closed_at is not None else None
    # Open, but another server runs it (this one was reached straight): say where.
    elsewhere = placement.elsewhere_error(sess).to_dict() \
        if where == placement.ELSEWHERE and sess.closed_at is None else None
    if sess.closed_at is not None and described["server_gone"]:
        ended = described["server_gone"]  # said as an ssh failure is: title, what, the fix
    # ``failed``: ssh could not connect or its connection dropped (not a plain ``exit``).
    return render_template("terminals/page.html", session=described, user=current_user(),
                           ended=ended, failed=bool(ended and ended["code"] != "shell_exited"),
                           elsewhere=elsewhere)


@bp.get("/terminals/<session_id>/tty/", defaults={"rest": ""})
@bp.get("/terminals/<session_id>/tty/<path:rest>")
@require_role("operator")
def tty(session_id: str, rest: str):
    """ttyd's page and ``/token``, for the session's owner only."""
    return proxy.http(proxy.owned_session(session_id))


# werkzeug routes upgrade requests only to rules marked websocket=True.
@bp.get("/terminals/<session_id>/tty/ws", websocket=True)
@require_role("operator")
def tty_websocket(session_id: str):
    """ttyd's WebSocket: owner and Origin checked, then relayed."""
    return proxy.websocket_view(proxy.owned_session(session_id))
