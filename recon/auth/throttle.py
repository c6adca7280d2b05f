"""Login throttling that holds under concurrency, and refused logins audited without a flood.

Failures are counted per (user, address) and per address, never per user alone: a user-wide
counter lets anyone lock the owner out by guessing from a few addresses. So a stranger's
guesses slow down only the stranger's address; the owner from a clean address is never
made to wait.

An attempt is **claimed** before its password is checked: one SQL statement counts it as a
failure on both counters, unless either of them is still waiting out its delay (then it
changes nothing). It runs in a write transaction (one writer at a time, on SQLite and
PostgreSQL alike), so simultaneous guesses from all workers get no more checks than
sequential ones would. A right password gives the claim back (the pair's count is
forgotten, the address's is not raised); so does a login refused
for load (:class:`recon.auth.passwords.LoginBusy`).

Refused attempts are audited per source: the first :data:`AUDITED_EACH` of a source in a
:data:`WINDOW` one row each, the rest in one row per source and window that counts them,
updated as they come (a single login form could otherwise write an audit row per POST,
kept for a year).
"""

from __future__ import annotations

import math

import sqlalchemy as sa

from recon.audit import store as audit
from recon.auth.models import LoginFailure
from recon.core.clock import iso, now
from recon.db.extensions import db
from recon.db.transactions import write_transaction

FREE_FAILURES = 4  # failures of a (user, address) pair before delays start
ADDR_FREE_FAILURES = 20  # one address guessing many accounts (or a shared NAT) waits later
MAX_DELAY = 300.0  # seconds
AUDITED_EACH = 10  # refused attempts of a source per window audited one row each
WINDOW = 3600.0  # seconds

_TABLE = LoginFailure.__tablename__
# 2 ** n (as 1 << n: no pow() in every SQLite build) until it reaches MAX_DELAY, then
# MAX_DELAY: a CASE, not min(), which PostgreSQL spells LEAST.
_CAP = math.ceil(math.log2(MAX_DELAY))
_WAITING = ("(f.key = :{k} AND f.count > :{k}_free AND f.last_at + "
            f"(CASE WHEN f.count - :{{k}}_free >= {_CAP} THEN :max_delay "
            "ELSE 1 << (f.count - :{k}_free) END) > :now)")
# The subquery is uncorrelated: SQLite evaluates it once, before either row is written, so
# both counters move together or not at all.
_CLAIM = sa.text(f"""
INSERT INTO {_TABLE} (key, count, last_at)
SELECT column1, 1, :now FROM (VALUES (:pair), (:addr)) AS proposed
WHERE NOT EXISTS (SELECT 1 FROM {_TABLE} AS f
                  WHERE {_WAITING.format(k="pair")} OR {_WAITING.format(k="addr")})
ON CONFLICT (key) DO UPDATE SET count = {_TABLE}.count + 1, last_at = excluded.last_at
RETURNING key""")
# One counter more: attempts of a source refused in a window (for the audit).
_BUMP = sa.text(f"""
INSERT INTO {_TABLE} (key, count, last_at) VALUES (:key, 1, :now)
ON CONFLICT (key) DO UPDATE SET count = {_TABLE}.count + 1, last_at = excluded.last_at
RETURNING count""")


def _keys(username: str, address: str | None) -> tuple[str, str]:
    addr = address or "?"
    return f"ua:{username.lower()}|{addr}", f"addr:{addr}"


def claim(username: str, address: str | None) -> bool:
    """Count this attempt as a failure before its password is checked; False (nothing
    counted) while the pair or the address must wait."""
    pair, addr = _keys(username, address)
    # One writer at a time (PostgreSQL would otherwise let two claims pass NOT EXISTS).
    with write_transaction() as session:
        claimed = session.execute(_CLAIM, {
            "pair": pair, "addr": addr, "pair_free": FREE_FAILURES,
            "addr_free": ADDR_FREE_FAILURES, "max_delay": MAX_DELAY, "now": now()}).all()
    return bool(claimed)


def retry_after(username: str, address: str | None) -> float:
    """Seconds until another attempt for this user from this address is allowed."""
    at = now()
    wait = 0.0
    free = dict(zip(_keys(username, address), (FREE_FAILURES, ADDR_FREE_FAILURES),
                    strict=True))
    for row in db.session.scalars(sa.select(LoginFailure).where(
            LoginFailure.key.in_(list(free)))):
        if row.count > free[row.key]:
            delay = min(MAX_DELAY, 2.0 ** (row.count - free[row.key]))
            wait = max(wait, row.last_at + delay - at)
    return max(0.0, wait)


def _give_back(*keys: str) -> None:
    db.session.execute(sa.update(LoginFailure).where(LoginFailure.key.in_(keys))
                       .values(count=sa.case((LoginFailure.count > 1, LoginFailure.count - 1),
                                             else_=0)))


def succeeded(username: str, address: str | None) -> None:
    """A good login forgets this (user, address) pair's failures and gives the address its
    claim back; the address's earlier failures stay, so one valid account does not reset a
    guessing address."""
    pair, addr = _keys(username, address)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key == pair))
    _give_back(addr)
    db.session.commit()


def give_back(username: str, address: str | None) -> None:
    """An attempt refused before its password was checked counts as no failure."""
    _give_back(*_keys(username, address))
    db.session.commit()


def audit_refused(code: str, username: str, address: str | None) -> None:
    """Audit a login refused with ``code`` (``throttled``, ``login_busy``) without letting
    one source flood the trail: past :data:`AUDITED_EACH` in a window, one row per source
    and window counts them (error ``<code>_aggregated``, its output starting with the
    count)."""
    at = now()
    start = at // WINDOW * WINDOW
    # Counting takes SQLite's write lock first, so the audit rows below follow in order.
    seen = db.session.execute(_BUMP, {
        "key": f"refused:{code}:{address or '?'}:{int(start)}", "now": at}).scalar_one()
    if seen <= AUDITED_EACH:
        audit.record("login", success=False, error=code, output=username,
                     actor=username or "?")
        return
    audit.record_aggregate(
        "login", error=f"{code}_aggregated", since=start, at=at,
        output=f"{seen - AUDITED_EACH} more login attempts refused ({code}) from "
               f"{address or '?'} since {iso(start, offset=False)}; the last for "
               f"{username[:64]!r} at {iso(at, offset=False)}")
