"""Applying a config in one process: what a reload changes, and what it leaves alone."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from recon.config import ConfigError, ReconConfig
from recon.config.load import parse_text, revision_of
from recon.web.context import per_app, runtime

log = logging.getLogger("recon.liveconfig")

# Settings read once at start-up (the database's busy timeout, where known_hosts and the
# terminals' sockets live): a reload that changes them says a restart is needed for them.
RESTART_SETTINGS = ("known_hosts", "database_busy_seconds", "terminal_run_dir")


@dataclass
class LiveState:
    """This process's view of its config file."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    applied_at: float = field(default_factory=time.time)
    # The last revision of the file that was refused, and why (None once a valid one loads).
    refused_revision: str | None = None
    refused_errors: list[str] = field(default_factory=list)
    restart_needed: list[str] = field(default_factory=list)
    # What the watcher last saw of the file (stat), so an unchanged file costs one stat.
    seen: tuple[int, int, int] | None = None
    # share_config: the revision this process last published or adopted, and its time.
    shared_revision: str | None = None
    shared_at: float = 0.0


def state(app: Flask) -> LiveState:
    """This process's live-config state."""
    return per_app("recon.liveconfig", LiveState, app)


def _changes(old: ReconConfig, new: ReconConfig) -> str:
    def diff(kind: str, a: dict, b: dict) -> list[str]:
        out = [f"+{kind} {k}" for k in b if k not in a]
        out += [f"-{kind} {k}" for k in a if k not in b]
        out += [f"~{kind} {k}" for k in b if k in a and a[k] != b[k]]
        return out
    parts = diff("host", old.hosts, new.hosts) + diff("service", old.services, new.services)
    parts += diff("channel", old.notify, new.notify)
    if old.settings != new.settings:
        parts.append("~settings")
    return ", ".join(parts) or "no change in hosts, services, channels or settings"


def apply(app: Flask, config: ReconConfig, reason: str) -> bool:
    """Make ``config`` this process's config (False when it already runs that revision).

    Requests read the runtime's config once each, so a request sees the old or the new
    config, never a mix; open log streams and terminals of services and hosts that still
    exist go on (a stream of a removed service ends at its next check)."""
    st = state(app)
    rt = runtime(app)
    with st.lock:
        old = rt.config
        if config.revision and config.revision == old.revision:
            return False
        rt.config = config
        st.applied_at = time.time()
        st.refused_revision, st.refused_errors = None, []
        st.restart_needed = [k for k in RESTART_SETTINGS
                             if getattr(old.settings, k) != getattr(config.settings, k)]
    log.warning("config: applied revision %s (%s, was %s): %s", config.revision, reason,
                old.revision, _changes(old, config))
    for key in st.restart_needed:
        log.warning("config: settings.%s changed; it takes effect at the next restart", key)
    for warning in config.warnings:
        log.warning("%s", warning)
    monitor = app.extensions.get("recon.monitor")
    if monitor is not None:
        monitor.config_changed()
    duties = getattr(monitor, "duties", None)
    if duties is not None and old.notify != config.notify:
        duties.channels_changed()
    return True


def refuse(app: Flask, revision: str, exc: ConfigError) -> None:
    """Record (and log, once per revision) a file that does not load; nothing changes."""
    st = state(app)
    with st.lock:
        if st.refused_revision == revision:
            return
        st.refused_revision, st.refused_errors = revision, list(exc.errors)
    log.error("config: %s (revision %s) is invalid; still running revision %s\n%s",
              exc.source, revision, runtime(app).config.revision, exc)


def reload_file(app: Flask, reason: str, raw: bytes | None = None) -> bool:
    """Read the config file (or take its bytes) and apply it if it is a new, valid revision;
    an invalid file is refused and recorded. True when a new revision was applied."""
    rt = runtime(app)
    path = Path(rt.config.source)
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            refuse(app, "", ConfigError(path, [f"{path}: {exc}"]))
            return False
    revision = revision_of(raw)
    if revision == rt.config.revision:
        return False
    try:
        config = parse_text(raw, path, check_keys=not app.config.get("RECON_DEFER_KEY_CHECK"))
    except ConfigError as exc:
        refuse(app, revision, exc)
        return False
    return apply(app, config, reason)


def save(app: Flask, change, *, action: str, base: str | None = None,
         host: str | None = None, service: str | None = None):
    """An edit of the config file from the browser or the CLI, start to end: made and
    written safely (:func:`recon.config.edit.edit_file`), audited with its diff before the
    caller answers, and applied in this process at once (the others follow within a
    second through their watch). Returns the :class:`recon.config.edit.Edit`."""
    from recon.audit import store as audit
    from recon.config.edit import edit_file

    path = Path(runtime(app).config.source)
    edit = edit_file(path, change, base=base,
                     check_keys=not app.config.get("RECON_DEFER_KEY_CHECK"))
    audit.record(action, success=True, host=host, service=service,
                 output=f"{edit.summary} (revision {edit.config.revision})\n{edit.diff}")
    apply(app, edit.config, action)
    return edit


def status(app: Flask) -> dict:
    """This process's config: revision, file, when applied, a refused newer file."""
    st = state(app)
    config = runtime(app).config
    return {"revision": config.revision, "source": str(config.source), "pid": os.getpid(),
            "applied_at": st.applied_at,
            "refused": ({"revision": st.refused_revision, "errors": st.refused_errors}
                        if st.refused_revision is not None else None),
            "restart_needed": list(st.restart_needed)}
