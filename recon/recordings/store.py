"""Where recordings live and what is known of them: ``<instance>/recordings`` (0700, files
0600, one ``<session id>.cast.gz`` per session) and a ``terminal_recordings`` row each.

The proxy calls :func:`begin` when a terminal's WebSocket is relayed and :func:`end` when
it ends; the routes list and read; :func:`prune` drops what is older than
``terminal_recording_retention_days`` (the retention job calls it).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from recon.core.clock import now
from recon.core.errors import NotFound
from recon.db.extensions import db
from recon.recordings import cast
from recon.recordings.models import TerminalRecording
from recon.recordings.tap import Tap
from recon.web.context import runtime

log = logging.getLogger("recon.recordings")
DAY = 86400.0


def folder() -> Path:
    """The recordings folder, created 0700 (made 0700 again if it was looser): the setting,
    else ``recordings/`` beside the SQLite database (``<instance>/recordings`` as RECON
    runs; a test's own folder when it has its own database; on PostgreSQL, whose URL names
    a database and not a file, the instance folder)."""
    configured = runtime().config.settings.terminal_recording_dir
    if configured:
        path = Path(configured)
    else:
        url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
        database = url.database if url.get_backend_name() == "sqlite" else None
        base = Path(database).parent if database and database != ":memory:" \
            else Path(current_app.instance_path)
        path = base / "recordings"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _not_found(recording_id: str) -> NotFound:
    return NotFound("recording", f"no recording {recording_id!r}",
                    "GET /api/recordings lists the recordings (a terminal that was never "
                    "attached, or one older than the retention, has none).")


@dataclass
class Session:
    """What :func:`begin` needs of a terminal session (passed in: no import of terminals)."""

    id: str
    user: str
    host: str
    started_at: float
    title: str


def begin(session: Session) -> Tap | None:
    """A tap recording this WebSocket of ``session``, or None when recording is off (or
    cannot start: logged, and the terminal goes on unrecorded)."""
    s = runtime().config.settings
    if not s.terminal_recording:
        return None
    try:
        row = db.session.get(TerminalRecording, session.id)
        if row is None:
            row = TerminalRecording(
                id=session.id, user=session.user, host=session.host,
                file=session.id + cast.SUFFIX, started_at=session.started_at)
            db.session.add(row)
        row.input_recorded = row.input_recorded or s.terminal_record_input
        writer = cast.CastWriter(folder() / row.file, row.started_at,
                                 s.terminal_recording_max_bytes, row.bytes_recorded or 0)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("terminal %s: recording could not start", session.id)
        return None
    return Tap(writer, session.title, s.terminal_record_input)


def end(session_id: str, tap: Tap | None) -> None:
    """Close the tap's member and note what it recorded."""
    if tap is None:
        return
    tap.close()
    w = tap.writer
    if w.failed:
        log.error("terminal %s: recording failed: %s", session_id, w.failed)
    try:
        db.session.execute(sa.update(TerminalRecording).where(
            TerminalRecording.id == session_id).values(
            ended_at=now(), bytes_recorded=w.used, size_cap_hit=w.capped))
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("terminal %s: recording's row not updated", session_id)


def get(recording_id: str) -> TerminalRecording:
    row = None
    if recording_id.isalnum() and len(recording_id) <= 32:
        row = db.session.get(TerminalRecording, recording_id)
    if row is None or not (folder() / row.file).exists():
        raise _not_found(recording_id)
    return row


def size_of(row: TerminalRecording) -> int | None:
    try:
        return (folder() / row.file).stat().st_size
    except OSError:
        return None


def listing(limit: int = 500) -> list[dict]:
    """The newest recordings first, with each file's size."""
    rows = db.session.scalars(sa.select(TerminalRecording)
                              .order_by(TerminalRecording.started_at.desc()).limit(limit))
    return [r.to_dict(size_of(r)) for r in rows]


def path_of(row: TerminalRecording) -> Path:
    return folder() / row.file


def prune(at: float, keep: set[str]) -> int:
    """Delete recordings whose last write is older than the retention (rows and files; a
    file left without a row too), except the sessions in ``keep`` (still open)."""
    s = runtime().config.settings
    cutoff = at - s.terminal_recording_retention_days * DAY
    base = folder()
    old = db.session.scalars(sa.select(TerminalRecording).where(
        sa.func.coalesce(TerminalRecording.ended_at, TerminalRecording.started_at) < cutoff))
    gone = 0
    for row in old:
        if row.id in keep:
            continue
        path = base / row.file
        try:
            if path.exists() and path.stat().st_mtime >= cutoff:
                continue  # written since (a WebSocket whose end was not noted)
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("recording %s: file not removed", row.id)
            continue
        db.session.delete(row)
        gone += 1
    db.session.commit()
    for path in base.glob("*" + cast.SUFFIX):
        sid = path.name[:-len(cast.SUFFIX)]
        try:
            if sid not in keep and path.stat().st_mtime < cutoff \
                    and db.session.get(TerminalRecording, sid) is None:
                path.unlink()
                gone += 1
        except OSError:
            pass
    return gone
