"""One unit across the fleet: ``/units`` lists the unit names the fleet runs (with how many
hosts each), ``/units/<unit>`` shows that unit on every host as the dashboard's rows (same
macro, same scripts, same actions and rules), one list instead of one section per host.

The dashboard's modules work on the page's model of the services (``data-fleet``) and the
rows; here the model holds only the services of this unit, and there are no host sections
(static/pages/units.js).
"""

from __future__ import annotations

from flask import render_template

from recon.config import RUN_ACTIONS
from recon.pages.routes import SETUP_LABELS, _fleet_data, _panels, _rollable, bp, is_large
from recon.web.context import runtime
from recon.web.policy import current_user


def _units() -> dict[str, list[str]]:
    """Unit name -> the hosts that run a configured service of it, in config order."""
    units: dict[str, list[str]] = {}
    for svc in runtime().config.services.values():
        units.setdefault(svc.unit, []).append(svc.host)
    return dict(sorted(units.items()))


@bp.get("/units")
def units_page():
    """Every unit name of the fleet; the page's script counts each one's states."""
    config = runtime().config
    return render_template("dashboard/units.html", user=current_user(), units=_units(),
                           large=is_large(config),
                           refresh_seconds=config.settings.refresh_seconds)


@bp.get("/units/<path:unit>")
def unit_across_page(unit: str):
    """One unit on every host that runs it: the dashboard's rows, with the host named."""
    config = runtime().config
    grouped = _panels()
    panels = [p for items in grouped.values() for p in items if p.service.unit == unit]
    if not panels:
        return render_template("dashboard/missing.html", user=current_user(), slug=unit,
                               what="unit"), 404
    rollable = {h: [(s, a) for s, a in items if s.unit == unit]
                for h, items in _rollable().items()}
    fleet, _ = _fleet_data({"": panels}, rollable, is_large(config))
    return render_template("dashboard/unit_across.html", user=current_user(), unit=unit,
                           panels=panels, fleet=fleet, all_actions=RUN_ACTIONS,
                           setup_labels=SETUP_LABELS,
                           hosts=sorted({p.service.host for p in panels}),
                           refresh_seconds=config.settings.refresh_seconds)
