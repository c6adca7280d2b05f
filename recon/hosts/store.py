"""Reading a host's units and keeping them: one read (:func:`refresh`), stored as one row
(:class:`recon.hosts.models.HostUnits`), and the stored view every page and API call answers
from (:func:`stored`). A failed read is stored as the attempt's error beside the list the
host gave last, so the page still shows it and says why it is old.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from recon.config import HostConfig
from recon.core.errors import ReconError
from recon.db.extensions import db
from recon.db.transactions import write_transaction
from recon.hosts.models import HostUnits
from recon.hosts.units import read_units
from recon.ssh import Executor


@dataclass
class Stored:
    """What is known of a host's units: the list (empty before the first read), when it was
    read, and the last attempt's failure, if it failed."""

    host: str
    units: list[dict[str, Any]] = field(default_factory=list)
    read_at: float | None = None
    tried_at: float | None = None
    read_ms: float | None = None
    error: str | None = None
    message: str | None = None

    @classmethod
    def of(cls, row: HostUnits | None, host: str) -> Stored:
        if row is None:
            return cls(host)
        return cls(host, row.unit_list(), row.read_at, row.tried_at, row.read_ms, row.error,
                   row.message)


def stored(host: str) -> Stored:
    """The stored list of ``host`` (one primary-key read)."""
    return Stored.of(db.session.get(HostUnits, host), host)


def stored_all() -> dict[str, Stored]:
    """Every host's stored row (the /hosts listing: one query)."""
    return {row.host: Stored.of(row, row.host) for row in db.session.scalars(sa.select(HostUnits))}


def tried_times() -> dict[str, float]:
    """When each host's units were last attempted (the background pass picks the due ones)."""
    return {host: tried for host, tried in db.session.execute(
        sa.select(HostUnits.host, HostUnits.tried_at))}


def save(host: str, *, tried_at: float, units: list[dict[str, Any]] | None = None,
         read_ms: float | None = None, error: ReconError | None = None) -> None:
    """Store one attempt: a read list (replacing the old one) or an error (keeping it). A read
    sent before the stored one never overwrites it (two processes for a moment, a Refresh)."""
    with write_transaction() as session:
        row = session.get(HostUnits, host)
        if row is None:
            row = HostUnits(host=host, tried_at=tried_at)
            session.add(row)
        if units is not None:
            if row.read_at is not None and row.read_at > tried_at:
                return
            row.units, row.read_at, row.read_ms = json.dumps(units), tried_at, read_ms
            row.error = row.message = None
        elif error is not None:
            row.error, row.message = error.code, error.message[:2000]
        row.tried_at = max(row.tried_at or 0.0, tried_at)


def refresh(executor: Executor, host: HostConfig, *,
            timeout: float | None = None) -> list[dict[str, Any]]:
    """Read ``host``'s units now and store them (or the failure, then re-raised). Holds no
    database connection while the host answers."""
    db.session.commit()
    started = time.time()
    try:
        units = read_units(executor, host, timeout=timeout)
    except ReconError as exc:
        save(host.name, tried_at=started, error=exc)
        raise
    save(host.name, tried_at=started, units=units,
         read_ms=round((time.time() - started) * 1000, 1))
    return units
