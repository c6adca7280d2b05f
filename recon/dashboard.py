"""The dashboard page (``/``)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from .auth import current_user

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    config = current_app.extensions["recon"].config
    return render_template("dashboard/index.html", config=config, user=current_user())
