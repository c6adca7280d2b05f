"""Terminal sessions: create (or reuse), look up, touch, close. State lives in SQLite only.

Every rule that must hold across gunicorn workers is enforced by the database: the partial
unique indexes in :mod:`.models` admit one open session per (user, host, mode) and at most
``terminal_max_sessions_per_user`` slots per user, and a session is closed by the single
``UPDATE ... WHERE closed_at IS NULL`` that wins the claim. Whoever wins terminates ttyd.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from recon.auth.accounts import on_access_ended
from recon.config import HostConfig, Settings
from recon.core.clock import now
from recon.core.errors import ApiError, NotFound
from recon.core.process import process_id
from recon.db.extensions import db
from recon.ssh.hostkeys import known_hosts_name
from recon.terminals import endings, identity, placement, ttyd
from recon.terminals.models import (
    CLOSE_REASONS,
    MODES,
    TerminalCounter,
    TerminalSession,
    bump,
)
from recon.web.context import runtime

log = logging.getLogger("recon.terminals")
CREDENTIAL_USER = "recon"


@dataclass
class Created:
    session: TerminalSession
    reused: bool


def settings() -> Settings:
    return runtime().config.settings


def run_dir() -> Path:
    """The private directory holding the ttyd sockets (created 0700; refused if looser)."""
    configured = settings().terminal_run_dir
    path = Path(configured) if configured else Path(current_app.instance_path) / "run"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        os.chmod(path, 0o700)
        if path.stat().st_mode & 0o077:
            raise ApiError(500, "run_dir_insecure", f"{path} is readable by other users",
                           "Make the terminal run directory 0700 and owned by RECON's user.")
    return path


def credential(session_id: str) -> str:
    """ttyd's ``user:password``: derived from the app's secret key, so every worker can
    inject it and it is stored nowhere."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    mac = hmac.new(key, f"ttyd-credential:{session_id}".encode(), hashlib.sha256).hexdigest()
    return f"{CREDENTIAL_USER}:{mac}"


def base_path(session_id: str) -> str:
    return f"/terminals/{session_id}/tty"


def get(session_id: str) -> TerminalSession | None:
    if not session_id.isalnum() or len(session_id) > 32:
        return None
    return db.session.get(TerminalSession, session_id, populate_existing=True)


def open_sessions(user: str | None = None) -> list[TerminalSession]:
    query = sa.select(TerminalSession).where(TerminalSession.closed_at.is_(None))
    if user is not None:
        query = query.where(TerminalSession.user == user)
    return list(db.session.scalars(query.order_by(TerminalSession.created_at)))


def process_ok(sess: TerminalSession) -> bool:
    return ttyd.is_ttyd_of(sess.pid, sess.socket_path)


def create(user: str, host_name: str, mode: str, auth_ref: str | None = None) -> Created:
    """A live session for (user, host, mode): the open one if any, else a new ttyd."""
    host = _terminal_host(host_name, mode, user)
    # As whom (a mapped login or the shared terminal_user): refused before a slot is taken.
    ident = identity.resolve(runtime().config, host, user)
    s = settings()
    deadline = time.monotonic() + s.terminal_start_timeout_seconds + 5
    while True:
        existing = db.session.scalars(sa.select(TerminalSession).where(
            TerminalSession.closed_at.is_(None), TerminalSession.user == user,
            TerminalSession.host == host_name, TerminalSession.mode == mode)).first()
        if existing is not None:
            if _reusable(existing, deadline):
                return Created(existing, True)
            continue
        sess = _claim_slot(user, host_name, mode, auth_ref, s, deadline)
        if sess is not None:
            break
    _start(sess, host, mode, ident)
    return Created(sess, False)


def _terminal_host(host_name: str, mode: str, user: str = "") -> HostConfig:
    """The configured host a terminal may open on, or the error that says why not."""
    config = runtime().config
    host = config.hosts.get(host_name) if isinstance(host_name, str) else None
    if host is None:
        raise NotFound("host", f"no host named {host_name!r}",
                       "Send one of the configured host names as `host`.")
    if mode not in MODES:
        raise ApiError(400, "invalid_mode", f"mode must be one of {', '.join(MODES)}",
                       "Terminals are writable shells; for a read-only live view of a "
                       "service use its logs (GET /api/services/<slug>/logs/stream).")
    if not host.terminal_user and config.terminal_login(host, user) is None:
        raise ApiError(409, "terminal_disabled",
                       f"terminals on {host.name} are disabled: no terminal_user is set",
                       f"Create a separate login on the host with no RECON sudo rules, set "
                       f"hosts.{host.name}.terminal_user in recon.toml, and verify it with "
                       f"`flask --app wsgi recon check {host.name}`.")
    return host


def _reusable(existing: TerminalSession, deadline: float) -> bool:
    """True when the open session of this target is live and is handed out again; otherwise
    it was closed (dead) or another request is still starting it, and the caller looks
    again."""
    db.session.refresh(existing)
    where = placement.locate(existing)
    if where == placement.GONE:
        # its dashboard process died: don't hand it out
        close(existing.id, placement.SERVER_GONE_REASON)
        return False
    # Another live server's (a replica's): handed back as it is, not closed under the user;
    # its page says where it runs (the user may close it and open one here).
    if existing.status == "live" and (where == placement.ELSEWHERE or process_ok(existing)):
        touch(existing.id)
        bump("reused")
        db.session.commit()
        return True
    if existing.status == "starting" and time.monotonic() < deadline:
        db.session.rollback()  # another request is starting it: wait for it
        time.sleep(0.02)
        return False
    close(existing.id, "process_exited")
    return False


def _claim_slot(user: str, host_name: str, mode: str, auth_ref: str | None, s: Settings,
                deadline: float) -> TerminalSession | None:
    """A new row in one of the user's free slots; None when a parallel request took it
    (look again)."""
    taken = set(db.session.scalars(sa.select(TerminalSession.slot).where(
        TerminalSession.closed_at.is_(None), TerminalSession.user == user)))
    free = [i for i in range(s.terminal_max_sessions_per_user) if i not in taken]
    if not free:
        db.session.rollback()
        bump("limit_hits")
        db.session.commit()
        live = [x.to_dict() for x in open_sessions(user)]
        raise ApiError(429, "terminal_limit",
                       f"{user} already has {len(taken)} open terminals (limit "
                       f"{s.terminal_max_sessions_per_user})",
                       "Close one (DELETE /api/terminals/<id>) and try again.",
                       sessions=live)
    sess = _new_row(user, host_name, mode, free[0], s)
    sess.auth_ref = auth_ref
    db.session.add(sess)
    try:
        db.session.commit()
    except IntegrityError:  # a parallel request took that slot or target: look again
        db.session.rollback()
        if time.monotonic() > deadline:
            raise ApiError(503, "terminal_busy", "too many parallel terminal requests",
                           "Try again in a moment.") from None
        return None
    return sess


def _new_row(user: str, host: str, mode: str, slot: int, s: Settings) -> TerminalSession:
    sid = secrets.token_hex(16)
    at = now()
    return TerminalSession(
        id=sid, user=user, host=host, mode=mode, slot=slot, status="starting",
        socket_path=str(run_dir() / f"{sid}.sock"), spawner=process_id(),
        created_at=at, last_activity_at=at, expires_at=at + s.terminal_ttl_seconds)


def _start(sess: TerminalSession, host, mode: str, ident: identity.Identity) -> None:
    """Spawn ttyd for a freshly claimed row; close the row again if that fails."""
    s = settings()
    sock = Path(sess.socket_path)
    pinned = None
    if host.host_key:
        pinned = sock.with_suffix(".known_hosts")
        pinned.write_text(f"{known_hosts_name(host.address, host.port)} {host.host_key}\n")
    try:
        command = ttyd.ssh_command(host, Path(current_app.config["RECON_KNOWN_HOSTS"]), pinned,
                                   sock.with_suffix(""), login=ident.login,
                                   key_file=ident.key_path)
        argv = ttyd.ttyd_command(ttyd.resolve_ttyd(s.ttyd_path), sock, base_path(sess.id),
                                 credential(sess.id), True,
                                 f"{host.name} ({ident.login})", command)
        pid = ttyd.spawn(argv, sock, sock.with_suffix(".log"), s.terminal_start_timeout_seconds)
    except BaseException:
        close(sess.id, "process_exited")
        raise
    try:
        db.session.execute(sa.update(TerminalSession).where(
            TerminalSession.id == sess.id, TerminalSession.closed_at.is_(None)).values(
            status="live", pid=pid))
        identity.record(sess.id, ident)
        bump("created")
        db.session.commit()
    except BaseException:
        # The row never got the pid: nothing else could ever find this ttyd to end it.
        db.session.rollback()
        ttyd.terminate(pid, sess.socket_path)
        close(sess.id, "process_exited")
        raise
    db.session.refresh(sess)
    if sess.closed_at is not None:  # closed while starting (GC or DELETE): don't leak ttyd
        ttyd.terminate(pid, sess.socket_path)
        raise ApiError(409, "terminal_closed", "the terminal was closed while it started",
                       "Open it again.")
    log.info("terminal %s opened: %s on %s (%s), ttyd pid %s", sess.id, sess.user, sess.host,
             mode, pid)


def touch(session_id: str) -> None:
    """Record activity (heartbeat or WebSocket traffic); commit is the caller's."""
    db.session.execute(sa.update(TerminalSession).where(
        TerminalSession.id == session_id, TerminalSession.closed_at.is_(None)).values(
        last_activity_at=now()))


def claim(session_id: str, reason: str) -> TerminalSession | None:
    """Mark the session closed if it still is open; the one caller that wins gets the row.
    How ssh ended, if it did, is stored in the same statement: whoever reads the closed row
    sees why."""
    values: dict = {"status": "closed", "closed_at": now(), "close_reason": reason}
    sock = db.session.scalar(sa.select(TerminalSession.socket_path).where(
        TerminalSession.id == session_id))
    ending = endings.read(Path(sock).with_suffix("")) if sock else None
    if ending is not None:
        values.update(end_code=ending.code, end_status=ending.exit_status,
                      end_detail=ending.detail)
    result = db.session.execute(sa.update(TerminalSession).where(
        TerminalSession.id == session_id, TerminalSession.closed_at.is_(None)).values(
        **values))
    if result.rowcount != 1:
        db.session.rollback()
        return None
    bump(f"closed_{reason}")
    db.session.commit()
    return db.session.get(TerminalSession, session_id, populate_existing=True)


def close(session_id: str, reason: str) -> bool:
    """Close and terminate; False if somebody else closed it first."""
    sess = claim(session_id, reason)
    if sess is None:
        return False
    ttyd.terminate(sess.pid, sess.socket_path)
    sock = Path(sess.socket_path)
    ttyd.remove_files(sock, sock.with_suffix(".log"), sock.with_suffix(".known_hosts"),
                      *endings.files(sock.with_suffix("")))
    log.info("terminal %s closed (%s%s)", session_id, reason,
             f", ssh: {sess.end_code}" if sess.end_code else "")
    return True


@on_access_ended
def close_for(*, user: str | None = None, auth_ref: str | None = None,
              reason: str = "revoked") -> int:
    """Close the open sessions of ``user`` (or opened under ``auth_ref``) now: ttyd is
    terminated, so the relay in whatever worker holds the WebSocket sees its upstream end
    (and its revocation poll sees the closed row). Commit the caller's change first."""
    query = sa.select(TerminalSession.id).where(TerminalSession.closed_at.is_(None))
    if user is not None:
        query = query.where(TerminalSession.user == user)
    if auth_ref is not None:
        query = query.where(TerminalSession.auth_ref == auth_ref)
    ids = list(db.session.scalars(query))
    return sum(close(sid, reason) for sid in ids)


def still_open(session_id: str) -> bool:
    """For the relay's revocation poll: the row is open (a fresh read, no ORM cache)."""
    closed = db.session.execute(sa.select(TerminalSession.closed_at).where(
        TerminalSession.id == session_id)).first()
    db.session.commit()
    return closed is not None and closed[0] is None


def metrics() -> dict:

    counters = {c.name: c.value for c in db.session.scalars(sa.select(TerminalCounter))}
    live = db.session.scalar(sa.select(sa.func.count()).select_from(TerminalSession).where(
        TerminalSession.closed_at.is_(None)))
    return {
        "created": counters.get("created", 0),
        "reused": counters.get("reused", 0),
        "closed": {r: counters.get(f"closed_{r}", 0) for r in CLOSE_REASONS},
        "live": live,
        "limit_hits": counters.get("limit_hits", 0),
    }
