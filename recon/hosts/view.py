"""The host page's data, as the API answers it and the page embeds it: a host's stored units,
filtered, failed first, each marked managed (with its service's page) or not (with, for an
admin, where to manage it), plus the counts the filters offer and how old the list is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from recon.config import ReconConfig
from recon.core.clock import iso
from recon.hosts.filters import Filters, counts, failed_first, manageable, managed_units
from recon.hosts.store import Stored


def host_url(name: str) -> str:
    return f"/hosts/{quote(name, safe='')}"


def manage_url(host: str, unit: str) -> str:
    """Where an admin will add ``unit`` as a service (the form lives at this address)."""
    return f"{host_url(host)}/manage?{urlencode({'unit': unit})}"


def mark(units: Iterable[Mapping[str, Any]], managed: Mapping[str, str], host: str, *,
         admin: bool) -> list[dict[str, Any]]:
    """Each unit with ``managed``, ``service`` (slug or None), ``service_url`` and, for an
    admin, ``manage_url`` on an unmanaged unit that could become a service."""
    out = []
    for u in units:
        slug = managed.get(u["name"])
        out.append({**u, "managed": slug is not None, "service": slug,
                    "service_url": f"/services/{slug}" if slug else None,
                    "manage_url": manage_url(host, u["name"])
                    if admin and slug is None and manageable(u) else None})
    return out


def freshness(s: Stored, now: float | None = None) -> dict[str, Any]:
    """When the list was read, and the last attempt's failure (None: it worked)."""
    now = time.time() if now is None else now
    return {"read_at": iso(s.read_at), "age_seconds":
            round(now - s.read_at, 1) if s.read_at is not None else None,
            "tried_at": iso(s.tried_at), "read_ms": s.read_ms,
            "error": {"error": s.error, "message": s.message} if s.error else None}


def host_units(config: ReconConfig, s: Stored, filters: Filters, *,
               admin: bool) -> dict[str, Any]:
    """The answer of ``GET /api/hosts/<name>/units``."""
    managed = managed_units(config.services.values(), s.host)
    chosen = failed_first(u for u in s.units if filters.matches(u))
    return {"host": s.host, "url": host_url(s.host), **freshness(s),
            "total": len(s.units), "matched": len(chosen),
            "failed": sum(1 for u in s.units if u["active"] == "failed"),
            "managed": sum(1 for u in s.units if u["name"] in managed),
            "counts": counts(s.units), "units": mark(chosen, managed, s.host, admin=admin)}


def host_summary(config: ReconConfig, name: str, s: Stored) -> dict[str, Any]:
    """One host of ``GET /api/hosts``: its counts and how fresh they are."""
    services = sum(1 for svc in config.services.values() if svc.host == name)
    return {"name": name, "url": host_url(name), "services": services,
            "units": len(s.units) if s.read_at is not None else None,
            "failed": sum(1 for u in s.units if u["active"] == "failed")
            if s.read_at is not None else None, **freshness(s)}
