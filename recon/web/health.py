"""``/healthz``: the database answers and the config is loaded. Never touches SSH."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from recon.db.extensions import db
from recon.web.context import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
        db_ok = True
    except sa.exc.SQLAlchemyError:
        db_ok = False
    config = runtime().config
    # No file paths: this route answers anonymous callers.
    body = {"ok": db_ok, "database": db_ok, "config": "loaded",
            "hosts": len(config.hosts), "services": len(config.services), "demo": config.demo}
    return jsonify(body), 200 if db_ok else 503
