"""The host page's filters (Cockpit's: type, active state, unit-file state, search), their
order (failed first) and which units are managed -- plain functions on unit records, shared by
the API, the page and the CLI.

A filter value is one of systemd's words, or several separated by commas
(``type=service,timer``); anything else is refused with the list of words it may be.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from recon.config import ServiceConfig
from recon.config.patterns import UNIT_RE, UNIT_SUFFIXES
from recon.core.errors import InvalidParameter

# systemd's words (systemctl --state=help); "none" is a unit without a unit file (a mount
# from fstab, a scope), shown as "—".
ACTIVE_STATES = ("active", "reloading", "inactive", "failed", "activating", "deactivating",
                 "maintenance", "refreshing", "unknown")
FILE_STATES = ("enabled", "enabled-runtime", "linked", "linked-runtime", "alias", "masked",
               "masked-runtime", "static", "disabled", "indirect", "generated", "transient",
               "bad", "none")
CHOICES: dict[str, tuple[str, ...]] = {
    "type": UNIT_SUFFIXES, "active": ACTIVE_STATES, "file_state": FILE_STATES}
SEARCH_MAX = 200


@dataclass(frozen=True)
class Filters:
    """What a caller asked to see; an empty tuple (or "") lets everything through."""

    type: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    file_state: tuple[str, ...] = ()
    q: str = ""

    def matches(self, unit: Mapping[str, Any]) -> bool:
        """Whether ``unit`` passes every filter (the search is case-insensitive, in the name
        and the description)."""
        if self.type and unit["type"] not in self.type:
            return False
        if self.active and unit["active"] not in self.active:
            return False
        if self.file_state and (unit["file_state"] or "none") not in self.file_state:
            return False
        if self.q:
            needle = self.q.casefold()
            return needle in unit["name"].casefold() or needle in (
                unit["description"] or "").casefold()
        return True


def parse_filters(args: Mapping[str, str | None]) -> Filters:
    """The filters in query-string style ``args`` (InvalidParameter names a bad one)."""
    chosen: dict[str, tuple[str, ...]] = {}
    for name, allowed in CHOICES.items():
        raw = (args.get(name) or "").strip()
        words = tuple(dict.fromkeys(w.strip() for w in raw.split(",") if w.strip()))
        bad = [w for w in words if w not in allowed]
        if bad:
            raise InvalidParameter(name, f"{name} {bad[0]!r} is not one of systemd's words",
                                   f"Use one or more (comma-separated) of: {', '.join(allowed)}.")
        chosen[name] = words
    q = (args.get("q") or "").strip()
    if len(q) > SEARCH_MAX:
        raise InvalidParameter("q", f"q is longer than {SEARCH_MAX} characters",
                               "Search for a part of a unit's name or description.")
    return Filters(type=chosen["type"], active=chosen["active"],
                   file_state=chosen["file_state"], q=q)


def failed_first(units: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The failed units first, then the rest; by name within each."""
    return sorted(units, key=lambda u: (u["active"] != "failed", u["name"]))


def counts(units: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """How many units have each type, active state and unit-file state (for the filters)."""
    units = list(units)
    return {"type": dict(Counter(u["type"] for u in units)),
            "active": dict(Counter(u["active"] for u in units)),
            "file_state": dict(Counter(u["file_state"] or "none" for u in units))}


def managed_units(services: Iterable[ServiceConfig], host: str) -> dict[str, str]:
    """The units of ``host`` that configured services manage -> the service's slug (its
    timer too, which the service's page shows)."""
    found: dict[str, str] = {}
    for svc in services:
        if svc.host != host:
            continue
        found.setdefault(svc.unit, svc.slug)
        if svc.timer:
            found.setdefault(svc.timer, svc.slug)
    return found


def manageable(unit: Mapping[str, Any]) -> bool:
    """Whether a unit could become a service in recon.toml: a name the config accepts (no
    backslash escapes), not a template (``getty@.service``), and a unit that exists."""
    name = unit["name"]
    return bool(UNIT_RE.fullmatch(name)) and "@." not in name and unit["load"] != "not-found"
