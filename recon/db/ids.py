"""Ids from a request, checked against what the database's id columns hold.

RECON's ids are ``Integer`` columns: 64-bit on SQLite, 32-bit (``integer``) on PostgreSQL.
A route accepts any id up to 2**63-1 (RECON's converter, :class:`recon.web.params.StorableInt`)
and on SQLite one past the newest simply matches nothing; PostgreSQL refuses to compare an
``integer`` with a value outside its range ("integer out of range"), which would be a 500.
So a lookup asks first whether the id can exist at all.
"""

from __future__ import annotations

from recon.db.extensions import db

_MAX = {"postgresql": 2**31 - 1}
SQLITE_MAX = 2**63 - 1


def largest() -> int:
    """The largest id the database's id columns can hold."""
    return _MAX.get(db.session.get_bind().dialect.name, SQLITE_MAX)


def can_exist(value: int) -> bool:
    """Whether a row may have this id (an id past the column's range matches nothing)."""
    return -largest() - 1 <= value <= largest()


def bounded(value: int) -> int:
    """``value``, or the largest storable id if it is past it: for "before"/"after" bounds,
    which then select the same rows."""
    return min(value, largest())
