"""Recordings, for admins only: ``GET /api/recordings`` (the list), ``GET
/api/recordings/<id>`` (the asciicast, decompressed, or gzip'd for a client that takes it)
and the pages ``/recordings`` (the list) and ``/recordings/<id>`` (the replay). Viewers and
operators get 403 on each. Fetching a cast is audited (``recording.replay``): reading
someone's terminal session leaves a trace like the session itself did."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Response, jsonify, render_template, request

from recon.audit import store as audit
from recon.recordings import cast, store
from recon.web.context import runtime
from recon.web.policy import current_user, require_role

bp = Blueprint("recordings", __name__)
# WebAssembly: the player's terminal emulator is a wasm module inside its script.
REPLAY_CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
              "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; "
              "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
              "form-action 'self'")
CAST_TYPE = "application/x-asciicast"


def _forbidden():
    """The app's 403 page, for a viewer or an operator."""
    return render_template("dashboard/forbidden.html", user=current_user(),
                           needed="admin"), 403


@bp.get("/api/recordings")
@require_role("admin")
def list_recordings():
    """The newest recordings first: user, host, start, duration, size, session id."""
    return jsonify({"recordings": store.listing()})


@bp.get("/api/recordings/<recording_id>")
@require_role("admin")
def get_recording(recording_id: str):
    """The cast (asciicast v2), streamed; gzip'd when the client accepts it."""
    row = store.get(recording_id)
    path = store.path_of(row)
    audit.record("recording.replay", success=True, host=row.host,
                 output=f"recording {row.id} of {row.user} on {row.host}")
    gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
    resp = Response(_gzipped(path) if gzip_ok else cast.iter_text(path), mimetype=CAST_TYPE)
    if gzip_ok:
        resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Content-Disposition"] = f'inline; filename="{row.id}.cast"'
    return resp


def _gzipped(path: Path) -> Iterator[bytes]:
    """One gzip stream of the whole cast (the file's members, re-compressed as they are
    read: a browser's gzip decoder takes one member only)."""
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    for piece in cast.iter_text(path):
        out = z.compress(piece)
        if out:
            yield out
    yield z.flush()


@bp.get("/recordings")
def index():
    """The list page (the admin pages' tab "Terminal recordings")."""
    if not current_user().can("admin"):
        return _forbidden()
    return render_template("recordings/index.html", user=current_user(),
                           recordings=store.listing(),
                           config_input=runtime().config.settings.terminal_record_input)


@bp.get("/recordings/<recording_id>")
def replay(recording_id: str):
    """The replay page: the player, its speed, and a search of the recorded output."""
    if not current_user().can("admin"):
        return _forbidden()
    row = store.get(recording_id)
    resp = Response(render_template("recordings/replay.html", user=current_user(),
                                    recording=row.to_dict(store.size_of(row))))
    resp.headers["Content-Security-Policy"] = REPLAY_CSP
    return resp
