"""The admin pages: users (``/admin/users``), API tokens (``/admin/tokens``) and notification
channels (``/admin/channels``).

Each page is a skeleton; its script (static/pages/admin-*.js) reads and changes everything
through the admin API that scripts and the CLI use too (``/api/users``, ``/api/tokens``,
``/api/notify``), so the checks, the CSRF rule and the audit entries are the API's, in one
place. Operators and viewers get the app's 403 page here, and the API refuses them as well.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from recon.web.context import runtime
from recon.web.policy import ROLES, current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The pages in the order of their tabs: (endpoint, tab label).
TABS = (("admin.users", "Users"), ("admin.tokens", "API tokens"),
        ("admin.channels", "Notification channels"),
        ("recordings.index", "Terminal recordings"))


@bp.app_context_processor
def _admin_tabs() -> dict:
    """The admin pages' tabs, for every page on the admin layout (the recordings' pages
    too, without importing this module)."""
    return {"admin_tabs": TABS}


def _page(template: str, **context):
    """Render an admin page for an admin; the 403 page for anyone else."""
    user = current_user()
    if not user.can("admin"):
        return render_template("dashboard/forbidden.html", user=user, needed="admin"), 403
    return render_template(template, user=user, roles=ROLES, **context)


@bp.get("/")
def index():
    user = current_user()
    if not user.can("admin"):
        return render_template("dashboard/forbidden.html", user=user, needed="admin"), 403
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users():
    return _page("admin/users.html")


@bp.get("/tokens")
def tokens():
    return _page("admin/tokens.html")


@bp.get("/channels")
def channels():
    config = runtime().config
    return _page("admin/channels.html", config_file=config.source.name)
