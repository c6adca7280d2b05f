"""One recon.toml for every server of a database (``share_config = true``; README: Running
more than one).

Each server keeps its own file (replicas may run on other machines); the database keeps the
accepted revisions (``config_text``), the newest ``at`` being the current one. Once a second
every process (:func:`sync`, from the config watch):

1. A revision this process applied from its file (a hand edit, a browser or CLI edit made
   through this server) is **published**: stored, or made the newest again if known.
2. A newer revision in the database is **adopted**: validated as at start, written to this
   server's file (the old one kept in ``backups/``), applied. A revision that does not load
   here (a key file missing on this machine) is refused and reported like an invalid file;
   the server keeps running what it ran.

When two servers' files disagree the newest change wins and the other file goes to
``backups/`` (logged as a warning with both revisions). At start a process whose file holds a
revision the database already knows, but not the newest, is a server that was down while the
config changed: it adopts the newest instead of publishing its stale file.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from recon.config import ConfigError
from recon.config.edit import write_atomically
from recon.config.load import parse_text, revision_of
from recon.db.extensions import db
from recon.db.transactions import write_transaction
from recon.liveconfig.apply import apply, refuse, state
from recon.liveconfig.models import ConfigText
from recon.web.context import runtime

log = logging.getLogger("recon.liveconfig")


def _newest() -> ConfigText | None:
    return db.session.scalars(sa.select(ConfigText).order_by(ConfigText.at.desc())
                              .limit(1)).first()


def publish(revision: str, text: str) -> None:
    """Make ``revision`` (this server's file) the current config of the database."""
    with write_transaction() as session:
        row = session.get(ConfigText, revision)
        now = time.time()
        if row is None:
            session.add(ConfigText(revision=revision, text=text, at=now,
                                   server=socket.gethostname()))
        else:
            row.at, row.server = now, socket.gethostname()


def sync(app: Flask) -> str | None:
    """One pass (see the module's docstring); returns what it did: ``published``,
    ``adopted`` or None."""
    config = runtime(app).config
    if not config.settings.share_config:
        return None
    st = state(app)
    newest = _newest()
    db.session.commit()  # end the read: the next pass must see other servers' writes
    first = st.shared_revision is None
    if config.revision != st.shared_revision and not (
            first and newest is not None and newest.revision != config.revision
            and db.session.get(ConfigText, config.revision) is not None):
        # This process's own change (or its first pass with a revision the database has
        # not seen): the file it came from is the truth now.
        raw = Path(config.source).read_bytes()
        if revision_of(raw) != config.revision:
            return None  # the file moved on meanwhile: the watch applies it first
        publish(config.revision, raw.decode("utf-8"))
        st.shared_revision, st.shared_at = config.revision, time.time()
        return "published"
    if newest is None or newest.revision == config.revision or newest.at <= st.shared_at:
        return None
    return _adopt(app, newest)


def _adopt(app: Flask, newest: ConfigText) -> str | None:
    st = state(app)
    config = runtime(app).config
    path = Path(config.source)
    raw = newest.text.encode("utf-8")
    try:
        new = parse_text(raw, path, check_keys=not app.config.get("RECON_DEFER_KEY_CHECK"))
    except ConfigError as exc:
        refuse(app, newest.revision, exc)
        st.shared_at = newest.at  # not again until a newer one comes
        return None
    from recon.config.edit import _backup
    old = path.read_bytes()
    if revision_of(old) != newest.revision:
        _backup(path, old)
        write_atomically(path, raw)
        log.warning("config: %s now holds revision %s from %s (was %s; kept in backups/)",
                    path, newest.revision, newest.server, revision_of(old))
    st.shared_revision, st.shared_at = newest.revision, newest.at
    apply(app, new, f"shared by {newest.server}")
    return "adopted"
