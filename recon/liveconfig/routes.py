"""``/api/config``: the running config's revision in every process, and a reload now."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from recon.audit import store as audit
from recon.config.edit import invalid
from recon.config.models import ConfigError
from recon.liveconfig.apply import reload_file, state, status
from recon.monitor import config_split
from recon.web.context import runtime
from recon.web.policy import require_role

bp = Blueprint("liveconfig", __name__)


def _body() -> dict:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    config = runtime().config
    members = config_split.members()
    return {**status(app),
            "processes": [{"owner": m.owner, "server": m.server, "revision": m.revision}
                          for m in members],
            "split": [m.owner for m in config_split.split(config.revision)]}


@bp.get("/api/config")
@require_role("admin")
def config_status():
    return jsonify(_body())


@bp.post("/api/config/reload")
@require_role("admin")
def reload_now():
    """Read recon.toml now (the watch would within a second): 200 with what runs, or 422
    ``config_invalid`` with every error and nothing changed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state(app).seen = None
    applied = reload_file(app, "reload requested")
    st = state(app)
    if st.refused_revision is not None:
        audit.record("config_reload", success=False,
                     error="config_invalid", output="\n".join(st.refused_errors))
        exc = ConfigError(runtime().config.source, st.refused_errors)
        raise invalid(exc)
    audit.record("config_reload", success=True,
                 output=f"revision {runtime().config.revision}"
                 + ("" if applied else " (unchanged)"))
    return jsonify({**_body(), "applied": applied})
