"""``/api/services/<slug>/logs``: filtered journal reads, a text download, and live follow.

Reads are viewer-level and not audited (they change nothing; the runbook's ``POST .../logs``
stays an audited action in the services blueprint).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from recon.auth.guard import auth_ref
from recon.config import HostConfig, ServiceConfig
from recon.core.errors import ApiError, InvalidParameter
from recon.logs.journal import JournalModes, Reader
from recon.logs.query import (
    MAX_LINES,
    LogQuery,
    parse_cursor,
    parse_grep,
    parse_lines,
    parse_priority,
    parse_time,
)
from recon.logs.stream import LogStream, StreamHub
from recon.ssh.executor import privileged
from recon.web import slots as holds
from recon.web.context import get_service, runtime
from recon.web.policy import current_user
from recon.web.ratelimit import host_read
from recon.web.sse import client_socket

bp = Blueprint("logs", __name__)

READ_PARAMS = ("lines", "since", "until", "priority", "grep", "cursor")
STREAM_PARAMS = ("lines", "since", "priority", "grep", "cursor")
STREAM_BACKLOG = 10  # journalctl -f's own default


@dataclass
class LogsState:
    """Per-app state: each host's output mode and the stream bounds/transports."""

    modes: JournalModes
    hub: StreamHub


_state_lock = threading.Lock()


def init_state(app: Flask) -> LogsState:
    """The app's LogsState, created on first use (the factory starts nothing)."""
    with _state_lock:
        state = app.extensions.get("recon.logs")
        if state is None:
            settings = runtime(app).config.settings
            keys = runtime(app).executor.host_keys
            state = LogsState(JournalModes(), StreamHub(
                keys, max_total=settings.log_streams_max,
                max_per_service=settings.log_streams_per_service))
            app.extensions["recon.logs"] = state
        return state


def logs_state() -> LogsState:
    return init_state(current_app._get_current_object())  # type: ignore[attr-defined]


def _service(slug: str) -> ServiceConfig:
    service = get_service(slug)
    if "logs" not in service.actions:
        raise ApiError(403, "action_not_allowed", f"logs are not allowed for {slug}",
                       "Add `logs` to the service's actions in recon.toml (and the journalctl "
                       "line to the host's sudoers drop-in).")
    return service



def _query(service: ServiceConfig, *, follow: bool) -> LogQuery:
    """The request's parameters, each validated; 400 names the first bad one."""
    args = request.args
    allowed = STREAM_PARAMS if follow else READ_PARAMS
    for name in args:
        if name not in allowed:
            where = "a log stream" if follow else "a log read"
            raise InvalidParameter(name, f"unknown parameter {name!r} for {where}",
                                   f"Use only: {', '.join(allowed)}.")
    for name in allowed:
        if len(args.getlist(name)) > 1:
            raise InvalidParameter(name, f"{name} is given more than once",
                                   f"Pass {name} once.")
    # A bad value raises InvalidParameter, which renders itself as a 400 naming it.
    cursor = parse_cursor(args.get("cursor"))
    if follow:
        cursor = parse_cursor(request.headers.get("Last-Event-ID"), "Last-Event-ID") or cursor
    return LogQuery(
        unit=service.unit,
        lines=parse_lines(args.get("lines"), STREAM_BACKLOG if follow else 100, MAX_LINES,
                          minimum=0 if follow else 1),
        priority=parse_priority(args.get("priority")),
        since=parse_time("since", args.get("since")),
        until=None if follow else parse_time("until", args.get("until")),
        grep=parse_grep(args.get("grep")),
        cursor=cursor, follow=follow)


def _check_mode(query: LogQuery, mode: str, host: str) -> None:
    if mode == "text" and query.cursor is not None:
        raise InvalidParameter("cursor",
                               f"the journalctl on {host} has no structured output, so no cursors",
                               "Leave out `cursor` (and Last-Event-ID) for this host.")


def _read(slug: str):
    service = _service(slug)
    query = _query(service, follow=False)
    rt, state = runtime(), logs_state()
    host = rt.config.hosts[service.host]
    _check_mode(query, state.modes.get(host), host.name)
    lines, truncated = _read_journal(Reader(rt.executor, state.modes), host, query)
    return service, host, query, lines, truncated


def _read_journal(reader: Reader, host: HostConfig, query: LogQuery) -> tuple[list[dict], bool]:
    """One journal read on the host, within the caller's bound on reads of hosts (429
    ``too_many_reads`` past it, nothing sent; :mod:`recon.web.ratelimit`)."""
    with host_read():
        lines, truncated, _mode = reader.read(host, query)
    return lines, truncated


@bp.get("/api/services/<slug>/logs")
def service_logs(slug: str):
    """Journal lines, oldest first: ``{service, lines: [...], truncated, command}``."""
    service, host, query, lines, truncated = _read(slug)
    return jsonify({"service": slug, "unit": service.unit, "host": host.name, "lines": lines,
                    "truncated": truncated,
                    "command": query.display(host.journalctl, host.use_sudo)})


def _text_line(line: dict) -> str:
    ident = line["ident"] or ""
    who = f"{ident}[{line['pid']}]" if line["pid"] is not None else ident
    return f"{line['ts'] or '-'} {who}: {line['message']}".replace("\n", "\n    ")


@bp.get("/api/services/<slug>/logs.txt")
def service_logs_text(slug: str):
    """The same lines as plain text, as a download."""
    service, host, query, lines, truncated = _read(slug)
    head = [f"# {query.display(host.journalctl, host.use_sudo)}  (host {host.name})"]
    if truncated:
        head.append(f"# only the newest {query.lines} lines; raise `lines` for more")
    body = "\n".join(head + [_text_line(line) for line in lines]) + "\n"
    return Response(body, mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="{slug}.log"'})


@bp.get("/api/services/<slug>/logs/stream")
def service_logs_stream(slug: str):
    """Server-Sent Events: one event per journal line (``id`` = cursor), a comment line
    every ``log_stream_keepalive_seconds``; ``event: error``/``end`` before a server-side end."""
    service = _service(slug)
    query = _query(service, follow=True)
    rt, state = runtime(), logs_state()
    host = rt.config.hosts[service.host]
    mode = state.modes.get(host)
    _check_mode(query, mode, host.name)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    refused = state.hub.acquire(slug)
    if refused:
        raise ApiError(429, "too_many_streams", refused,
                       "Close a log view in another tab, or retry in a moment.", retry_after=5)
    try:  # per user and in all workers; ended when the login behind it ends
        hold = holds.acquire("log", current_user().username, auth_ref())
    except BaseException:
        state.hub.release(slug)
        raise
    ended = holds.watch(hold)
    settings = rt.config.settings
    stream = LogStream(state.hub, slug, host, mode, settings.log_stream_keepalive_seconds,
                       client_socket(request.environ), ended,
                       configured=lambda: slug in runtime(app).config.services)
    # The slot is released by stream.close(), which start() calls itself if it fails.
    argv = query.argv(host.journalctl, "json" if mode == "json" else "short-iso")

    def give_back() -> None:
        with app.app_context():
            holds.release(hold)

    try:
        stream.start(privileged(host, argv), settings.log_stream_max_seconds)
    except BaseException:
        holds.release(hold)
        raise
    resp = Response(stream.events(), mimetype="text/event-stream", headers={
        "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    resp.call_on_close(stream.close)  # also when the body never started
    resp.call_on_close(give_back)
    return resp
