"""The watch on ``recon.toml``: one ``stat`` a second, a read only when it changed."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from recon.liveconfig.apply import reload_file, state
from recon.web.context import runtime

WATCH_SECONDS = 1.0


def check_file(app: Flask) -> bool:
    """One look at the config file: reload it when its stat changed since the last look.
    True when a new revision was applied."""
    st = state(app)
    path = Path(runtime(app).config.source)
    try:
        info = os.stat(path)
    except OSError:
        info = None
    seen = (info.st_mtime_ns, info.st_size, info.st_ino) if info else None
    if seen is not None and seen == st.seen:
        return False
    st.seen = seen
    return reload_file(app, "file changed")


SPLIT_CHECK_SECONDS = 5.0
SPLIT_LOG_SECONDS = 60.0
_split_seen = {"checked": 0.0, "logged": 0.0}


def report_split(app: Flask, now: float | None = None) -> list[str]:
    """Every few seconds, the live processes that run another config revision than this
    one (see :mod:`recon.monitor.config_split`); logged as an error once a minute while it
    lasts, so a second server with another file on this database is never silent."""
    import time

    from recon.monitor import config_split

    now = time.monotonic() if now is None else now
    if now - _split_seen["checked"] < SPLIT_CHECK_SECONDS:
        return []
    _split_seen["checked"] = now
    config = runtime(app).config
    others = config_split.split(config.revision)
    if others and now - _split_seen["logged"] >= SPLIT_LOG_SECONDS:
        _split_seen["logged"] = now
        import logging
        logging.getLogger("recon.liveconfig").error(
            "config: %d process(es) on this database run another recon.toml (%s) than this "
            "one (%s, revision %s): the fleet's hosts and notifications are split between "
            "configs. Run one config on every server of a database.", len(others),
            ", ".join(sorted({f"{m.server or m.owner} revision {m.revision}" for m in others})),
            config.source, config.revision)
    return [m.owner for m in others]
