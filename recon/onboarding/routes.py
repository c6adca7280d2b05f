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
