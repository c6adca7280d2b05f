"""Adding hosts and managing units from the browser (admins only): the JSON API the forms
call; the steps themselves are in :mod:`recon.onboarding.adding`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from recon.core.errors import InvalidBody
from recon.onboarding import adding
from recon.web.policy import require_role

bp = Blueprint("onboarding", __name__)


def _app():
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidBody("expected a JSON object", "Send the form's fields as a JSON object.")
    return data


@bp.post("/api/onboarding/hosts/scan")
@require_role("admin")
def scan_host():
    """Validate a new host's values and fetch the key it offers (nothing is trusted)."""
    host = adding.candidate(_app(), _body())
    return jsonify(adding.scan(_app(), host).to_dict())


@bp.post("/api/config/hosts")
@require_role("admin")
def add_host():
    """Trust the confirmed key and add the host; what to install on it next."""
    return jsonify(adding.add_host(_app(), _body())), 201


@bp.get("/api/onboarding/hosts/<name>/check")
@require_role("admin")
def check_host(name: str):
    """``recon check``'s gates for the host, run now."""
    return jsonify(adding.check(_app(), name))


@bp.get("/api/onboarding/hosts/<name>/setup")
@require_role("admin")
def host_setup(name: str):
    """The public key and sudoers drop-in to install on a configured host."""
    from recon.web.context import runtime
    host = runtime().config.hosts.get(name)
    if host is None:
        from recon.core.errors import NotFound
        raise NotFound("host", f"no host named {name!r}",
                       "GET /api/hosts lists the configured hosts.")
    return jsonify(adding.setup_for(_app(), host))


@bp.post("/api/onboarding/services/preview")
@require_role("admin")
def preview_service():
    """The service a form's choice makes and the sudoers lines it needs (not saved)."""
    return jsonify(adding.service_preview(_app(), _body()))


@bp.post("/api/config/services")
@require_role("admin")
def add_service():
    """Manage a unit: add it to recon.toml (validated, audited, applied at once)."""
    return jsonify(adding.add_managed(_app(), _body())), 201


@bp.delete("/api/config/services/<slug>")
@require_role("admin")
def remove_service(slug: str):
    """Stop managing a service: remove it from recon.toml."""
    return jsonify(adding.remove_managed(_app(), slug, request.args.get("base")))


# ---- the pages (admins; others get the forbidden page) ----------------------------------

def _forbidden():
    from flask import render_template

    from recon.web.policy import current_user
    return render_template("dashboard/forbidden.html", user=current_user(),
                           needed="admin"), 403


@bp.get("/add-host")
def add_host_page():
    """Add a host: its values, its key confirmed, what to install, the gates."""
    from flask import render_template

    from recon.web.context import runtime
    from recon.web.policy import current_user
    if not current_user().can("admin"):
        return _forbidden()
    config = runtime().config
    return render_template("onboarding/add_host.html", user=current_user(),
                           default_key=adding.default_key(config),
                           revision=config.revision)


@bp.get("/hosts/<name>/manage")
def manage_unit_page(name: str):
    """Manage a unit of a host: the service's values and the sudoers lines they need."""
    from flask import render_template

    from recon.config import ACTIONS, DEFAULT_ACTIONS
    from recon.core.errors import NotFound
    from recon.web.context import runtime
    from recon.web.policy import current_user
    if not current_user().can("admin"):
        return _forbidden()
    config = runtime().config
    if name not in config.hosts:
        raise NotFound("host", f"no host named {name!r}",
                       "GET /api/hosts lists the configured hosts.")
    unit = request.args.get("unit", "")
    managed = [s for s in config.services_on(name) if s.unit == unit]
    return render_template("onboarding/manage_unit.html", user=current_user(), host=name,
                           unit=unit, managed=managed, actions=ACTIONS,
                           default_actions=DEFAULT_ACTIONS, revision=config.revision)
