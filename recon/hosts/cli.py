"""``flask --app wsgi recon units HOST``: every unit of a host, read from it now (the CLI has
no monitor), with the host page's filters as options."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from recon.core.errors import ReconError
from recon.hosts.filters import CHOICES, failed_first, managed_units, parse_filters
from recon.hosts.store import refresh
from recon.web.context import runtime


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()


@click.command("units")
@click.argument("host")
@click.option("--type", "type_", metavar="TYPE",
              help=f"service, timer, socket ... (comma-separated): {', '.join(CHOICES['type'])}")
@click.option("--active", metavar="STATE", help="active, inactive, failed ... (comma-separated)")
@click.option("--file-state", metavar="STATE",
              help="enabled, disabled, static, masked, none ... (comma-separated)")
@click.option("-q", "--search", default="", help="text in the unit's name or description")
@click.option("--json", "as_json", is_flag=True, help="print the records as JSON")
@with_appcontext
def units_command(host: str, type_: str | None, active: str | None, file_state: str | None,
                  search: str, as_json: bool) -> None:
    """List every unit of HOST (failed first), read from it now, and store the list."""
    rt = runtime()
    config = rt.config.hosts.get(host)
    if config is None:
        click.echo(f"error: no host named {host!r} (configured: "
                   f"{', '.join(rt.config.hosts) or 'none'})", err=True)
        sys.exit(1)
    try:
        filters = parse_filters({"type": type_, "active": active, "file_state": file_state,
                                 "q": search})
        units = refresh(rt.executor, config)
    except ReconError as exc:
        click.echo(f"error: {exc.code}: {exc.message}\nhint: {exc.hint}", err=True)
        sys.exit(1)
    managed = managed_units(rt.config.services.values(), host)
    chosen = failed_first(u for u in units if filters.matches(u))
    if as_json:
        click.echo(json.dumps([{**u, "service": managed.get(u["name"])} for u in chosen],
                              indent=2))
        return
    rows = [["UNIT", "ACTIVE", "SUB", "FILE", "SERVICE", "DESCRIPTION"]]
    for u in chosen:
        rows.append([u["name"], u["active"], u["sub"] or "-", u["file_state"] or "-",
                     managed.get(u["name"], "-"), u["description"] or ""])
    widths = [max(len(r[i]) for r in rows) for i in range(5)] + [0]
    for r in rows:
        click.echo(_row(r, widths))
    click.echo(f"{len(chosen)} of {len(units)} units on {host}", err=True)
