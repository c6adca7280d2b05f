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
