"""``/healthz``: the database answers, the config is loaded, and every host is watched.
Never touches SSH, and answers anonymous callers (no paths, no host names).

``status`` is ``degraded`` (still 200: the process serves) while any configured host has no
process watching it -- no live host lease, or its supervisor failing or late -- and
``not_watched`` counts them; also while processes on this database have run another config
revision for a while (``config_split``: a second server with another recon.toml,
:mod:`recon.monitor.config_split`); 503 only when the database does not answer.
``hosts_down`` and ``hosts_degraded`` count the hosts that are down, or answer with something
wrong (e.g. an sshd that takes no new connections): their health, not RECON's.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Blueprint, jsonify

from recon.db.extensions import db
from recon.monitor import config_split
from recon.monitor.models import HostLease, HostState
from recon.web.context import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    config = runtime().config
    try:
        watched = set(db.session.scalars(sa.select(HostLease.host).where(
            HostLease.expires_at > time.time(), HostLease.state == "watching")))
        states = dict(db.session.execute(sa.select(HostState.name, HostState.state)).all())
        db_ok = True
    except sa.exc.SQLAlchemyError:
        watched, states, db_ok = set(), {}, False
    try:
        split = len(config_split.split(config.revision)) if db_ok else 0
    except sa.exc.SQLAlchemyError:
        split = 0
    not_watched = sum(1 for h in config.hosts if h not in watched)
    body = {"ok": db_ok, "status": "degraded" if not_watched or split or not db_ok else "ok",
            "database": db_ok, "config": "loaded", "config_revision": config.revision,
            "config_split": split, "hosts": len(config.hosts),
            "not_watched": not_watched,
            # the hosts' own health, counted (names are not for anonymous callers); it does
            # not make RECON "degraded": RECON serves and tells about them
            "hosts_down": sum(1 for h in config.hosts if states.get(h) == "down"),
            "hosts_degraded": sum(1 for h in config.hosts if states.get(h) == "degraded"),
            "services": len(config.services), "demo": config.demo}
    return jsonify(body), 200 if db_ok else 503
