"""``GET /api/events``: the fleet's changes as Server-Sent Events, for the dashboard.

A stream starts with a ``snapshot`` event (every service and host, as ``GET /api/services``;
``?view=compact`` in its compact shape) unless it resumes with ``Last-Event-ID`` or
``?after=`` (the ``event_id`` of a fleet call), in which case it replays what it missed. Then one
``unit`` event per observed or caused change and one ``host`` event per host state change,
each with the event's id; every ``ANSWERED_SECONDS`` without news an ``answered`` event
(each host's seconds since it last answered, for "answered N s ago"); a comment line after
``KEEPALIVE_SECONDS`` of silence. A stream ends after
``MAX_SECONDS`` and the browser resumes it.

Each stream holds a server thread, so it holds a slot (:mod:`recon.web.slots`): past a cap
the request is refused with 429 ``too_many_streams`` (the page then refreshes from the
snapshot instead), and when the login behind it ends the stream ends with an ``error`` event
(``access_ended``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app, request

from recon.auth.accounts import on_access_ended
from recon.auth.guard import auth_ref
from recon.config import ReconConfig
from recon.core.errors import InvalidParameter
from recon.monitor import history
from recon.monitor.hub import event_hub
from recon.services.fleet import COLUMNS, describe, fleet_view, joined
from recon.services.routes import bp
from recon.web import slots as holds
from recon.web.context import runtime
from recon.web.policy import current_user
from recon.web.sse import access_ended, client_gone, client_socket, sse

KEEPALIVE_SECONDS = 15.0
# How often a stream tells each host's seconds since it last answered (the host header's
# "answered N s ago"): small enough that a healthy host shows a small number.
ANSWERED_SECONDS = 1.0
MAX_SECONDS = 1800.0
WAKE_SECONDS = 1.0  # how often a waiting stream checks whether its client left or login ended
REPLAY_MAX = 1000
RETRY_MS = 2000
MAX_ID = 2**63 - 1  # SQLite's largest integer: no event id is larger
_ID = re.compile(r"[0-9]{1,19}")

# A logout, a revoked token, a deleted or demoted user: every held slot of theirs is marked
# ended, so their streams end in whichever process runs them (terminals also close at once
# through recon.terminals.manager.close_for).
on_access_ended(holds.end_for)


def _last_event_id() -> int | None:
    """The id to resume after: the ``Last-Event-ID`` header (EventSource's own) or
    ``?after=``; None for a fresh start."""
    name, raw = "Last-Event-ID", request.headers.get("Last-Event-ID")
    if not raw:
        name, raw = "after", request.args.get("after")
    if raw is None or raw == "":
        return None
    if not _ID.fullmatch(raw) or int(raw) > MAX_ID:
        raise InvalidParameter(name, f"{name} must be an event id (0-{MAX_ID})",
                               "Resume with the id of the last event received, or omit it.")
    return int(raw)


def _compact() -> bool:
    """``?view=compact``: the snapshot event in the compact shape of ``GET /api/services``."""
    view = request.args.get("view", "full")
    if view not in ("full", "compact"):
        raise InvalidParameter("view", "view must be full or compact",
                               "Omit it for the full view.")
    return view == "compact"


def _fleet_event(config: ReconConfig, cursor: int, compact: bool) -> str:
    fleet = fleet_view(current_app._get_current_object())
    services, _ = fleet.services(config, compact=compact)
    head = f'{{"columns":{json.dumps(COLUMNS)},' if compact else "{"
    hosts = json.dumps(fleet.hosts(config, refresh=False))
    body = f'{head}"services":{joined(services)},"hosts":{hosts}}}'
    return "event: snapshot\n" + (f"id: {cursor}\n" if cursor else "") + f"data: {body}\n\n"


def _render(config: ReconConfig, event: dict[str, Any]) -> str:
    """One stored event as an SSE message (unit events carry the service's new view)."""
    if event["kind"] == "host":
        return sse({"host": event["host_state"], "event": _brief(event)}, event="host",
                   id=event["id"])
    service = config.services.get(event["service"])
    if service is None:  # a service removed from the config since
        return f"id: {event['id']}\n: skipped\n\n"
    status = {**event["status"], "observed_at": event["at"]}
    return sse({"service": describe(service, status), "event": _brief(event)}, event="unit",
               id=event["id"])


def _config_event(old: ReconConfig, new: ReconConfig) -> str:
    """recon.toml changed under an open page: what it added and removed (the page reloads
    its fleet, or offers to when the user is busy in it)."""
    return sse({"revision": new.revision,
                "services_added": [s for s in new.services if s not in old.services],
                "services_removed": [s for s in old.services if s not in new.services],
                "hosts_added": [h for h in new.hosts if h not in old.hosts],
                "hosts_removed": [h for h in old.hosts if h not in new.hosts]},
               event="config")


def _news(app: Flask, hub, cursor: int) -> list[dict[str, Any]]:
    """The events after ``cursor``, waiting up to WAKE_SECONDS for some."""
    news = hub.wait(cursor, WAKE_SECONDS)
    if news is None:  # fell behind the hub's memory: read the gap directly
        with app.app_context():
            news = [e.to_dict() for e in history.events_after(cursor)]
    return news


class _ConfigFollow:
    """The config a stream renders with; a reload changes it, with an event that says so."""

    def __init__(self, app: Flask, config: ReconConfig):
        self.app, self.config = app, config

    def changed(self) -> str | None:
        now = runtime(self.app).config
        if now is self.config:
            return None
        event, self.config = _config_event(self.config, now), now
        return event


def _brief(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ("status", "host_state")}


def _head(config: ReconConfig, after: int | None,
          compact: bool = False) -> tuple[list[str], int]:
    """What a stream starts with, and the id it has then seen up to: what it missed since
    ``after``, else (a fresh start, too far behind, or an id beyond the newest event as after
    a database was replaced) a snapshot."""
    low, high = history.event_bounds()
    head = [f"retry: {RETRY_MS}\n\n"]
    if after is None or after < low - 1 or after > high or high - after > REPLAY_MAX:
        return head + [_fleet_event(config, high, compact)], high
    missed = history.events_after(after, REPLAY_MAX)
    head += [_render(config, e.to_dict()) for e in missed]
    return head, missed[-1].id if missed else after


class _Quiet:
    """What a stream without news sends: every ``ANSWERED_SECONDS`` an ``answered`` event
    (each host's seconds since it last answered, and the liveness bound), else after
    ``KEEPALIVE_SECONDS`` of silence a comment."""

    def __init__(self, app: Flask, config: ReconConfig):
        self.app, self.config = app, config
        self.wrote = self.answered = time.monotonic()

    def line(self) -> str:
        now = time.monotonic()
        if now - self.answered >= ANSWERED_SECONDS:
            self.answered = self.wrote = now
            with self.app.app_context():
                body = fleet_view(self.app).answered(self.config)
            return f"event: answered\ndata: {body}\n\n"
        if now - self.wrote >= KEEPALIVE_SECONDS:
            self.wrote = now
            return ": keepalive\n\n"
        return ""


@bp.get("/api/events")
def fleet_events():
    """The live event stream (see the module's docstring)."""
    config = runtime().config
    after = _last_event_id()
    compact = _compact()
    slot = holds.acquire("events", current_user().username, auth_ref())
    try:
        head, cursor = _head(config, after, compact)
        ended = holds.watch(slot)
    except BaseException:
        holds.release(slot)
        raise
    app = current_app._get_current_object()
    client = client_socket(request.environ)
    hub = event_hub(app)
    hub.subscribe(cursor)

    quiet = _Quiet(app, config)
    running = _ConfigFollow(app, config)

    def stream(cursor: int) -> Iterator[str]:
        yield "".join(head)
        started = time.monotonic()
        while time.monotonic() - started < MAX_SECONDS:
            if ended.is_set():
                yield access_ended()
                return
            if change := running.changed():
                yield change
            news = _news(app, hub, cursor)
            if news:
                yield "".join(_render(running.config, e) for e in news)
                cursor = news[-1]["id"]
                quiet.wrote = time.monotonic()
            elif client is not None and client_gone(client):
                return
            elif line := quiet.line():
                yield line

    def give_back() -> None:
        with app.app_context():
            holds.release(slot)

    resp = Response(stream(cursor), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    resp.call_on_close(hub.unsubscribe)  # also when the body never started
    resp.call_on_close(give_back)
    return resp
