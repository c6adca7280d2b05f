"""The hosts shared among the processes that monitor: members, host leases, who watches what.

Every serving process is a **member** while it renews its row (``monitor_member``). Each host
goes to one live member by rendezvous hashing (:func:`assign`): every member computes the
same answer from the same member list, and a member that joins or leaves moves only its own
share. A member watches a host only while it holds the host's **lease** (``host_lease``):
it claims a lease that is free or lapsed, renews its own every few seconds, and gives up
those the hashing moved elsewhere -- so two processes never watch one host, and the hosts of
a process that died are taken over once its leases lapse.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from recon.db.extensions import db
from recon.db.transactions import write_transaction
from recon.monitor.models import HostLease, MonitorMember

MEMBER_SECONDS = 10.0  # a member whose row is this stale is taken for dead
LEASE_SECONDS = 10.0  # a host lease not renewed for this long may be taken over


def _weight(member: str, host: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{member}\0{host}".encode(), digest_size=8)
                          .digest(), "big")


def assign(hosts: Iterable[str], members: Iterable[str]) -> dict[str, str]:
    """Each host's member: the one with the highest weight for it (none without members)."""
    members = sorted(set(members))
    if not members:
        return {}
    return {h: max(members, key=lambda m: _weight(m, h)) for h in hosts}


def heartbeat(owner: str, started_at: float, now: float | None = None, *,
              revision: str = "", server: str = "") -> list[str]:
    """Renew ``owner``'s membership (with the config revision it runs, and its server); the
    live members (``owner`` included)."""
    now = time.time() if now is None else now
    with write_transaction() as session:
        row = session.get(MonitorMember, owner)
        if row is None:
            session.add(MonitorMember(owner=owner, started_at=started_at,
                                      expires_at=now + MEMBER_SECONDS,
                                      config_revision=revision, server=server))
        else:
            row.expires_at = now + MEMBER_SECONDS
            if row.config_revision != revision or row.server != server:
                row.config_revision, row.server = revision, server
        # The dead leave the table here, so it never grows with restarts.
        session.execute(sa.delete(MonitorMember).where(MonitorMember.expires_at < now - 60))
        session.flush()
        return list(session.scalars(sa.select(MonitorMember.owner)
                                    .where(MonitorMember.expires_at > now)))


def member_configs(now: float | None = None) -> list[tuple[str, str, str]]:
    """The live members as (owner, server, config revision)."""
    now = time.time() if now is None else now
    t = MonitorMember.__table__
    return [tuple(r) for r in db.session.execute(
        sa.select(t.c.owner, t.c.server, t.c.config_revision).where(t.c.expires_at > now))]


def sync_leases(owner: str, wanted: Iterable[str], health: Mapping[str, tuple[str, str | None]],
                restarts: Mapping[str, int], now: float | None = None) -> tuple[set[str], float]:
    """Give up ``owner``'s leases on hosts it no longer wants, renew the rest (with the
    state of their supervisors: ``health``), claim wanted hosts whose lease is free or
    lapsed; the hosts ``owner`` holds afterwards, and until when.

    The time is read once the write lock is held (``now`` only for tests): a renewal that
    waited for the lock must not write a lease that has already run out. Plain statements,
    not ORM objects: every process runs this every few seconds over every host, and at rest
    it is one read and one UPDATE."""
    wanted = set(wanted)
    t = HostLease.__table__
    with write_transaction() as session:
        now = time.time() if now is None else now
        expires = now + LEASE_SECONDS
        rows = {r.host: r for r in session.execute(
            sa.select(t.c.host, t.c.owner, t.c.expires_at, t.c.state, t.c.note, t.c.restarts))}
        gone = [h for h, r in rows.items() if r.owner == owner and h not in wanted]
        new, changed, held = [], [], set()
        for host in wanted:
            row = rows.get(host)
            state, note = health.get(host, ("watching", None))
            values = {"owner": owner, "expires_at": expires, "state": state, "note": note,
                      "restarts": restarts.get(host, 0)}
            if row is None:
                new.append({"host": host, **values})
            elif row.owner == owner:
                if (row.state, row.note, row.restarts) != (state, note, values["restarts"]):
                    changed.append({"b_host": host, **values})
            elif row.expires_at <= now:
                changed.append({"b_host": host, **values})  # lapsed: taken over
            else:
                continue  # another member's until it gives it up or it lapses
            held.add(host)
        if gone:
            session.execute(sa.delete(t).where(t.c.host.in_(gone), t.c.owner == owner))
        session.execute(sa.update(t).where(t.c.owner == owner).values(expires_at=expires))
        if changed:
            session.execute(sa.update(t).where(t.c.host == sa.bindparam("b_host")), changed)
        if new:
            session.execute(sa.insert(t), new)
    return held, expires


def release_all(owner: str) -> None:
    """Give up every lease and the membership of ``owner`` at once (a clean stop), so the
    others take its hosts without waiting for the leases to lapse."""
    db.session.execute(sa.delete(HostLease).where(HostLease.owner == owner))
    db.session.execute(sa.delete(MonitorMember).where(MonitorMember.owner == owner))
    db.session.commit()


@dataclass(frozen=True)
class Watch:
    """Whether a host is watched now, and if not, why."""

    watched: bool
    reason: str | None = None
    owner: str | None = None


def watch_states(hosts: Iterable[str], now: float | None = None) -> dict[str, Watch]:
    """Every host's :class:`Watch`, from the leases (one query)."""
    now = time.time() if now is None else now
    rows = {r.host: r for r in db.session.execute(
        sa.select(HostLease.host, HostLease.owner, HostLease.expires_at, HostLease.state,
                  HostLease.note))}
    out: dict[str, Watch] = {}
    for host in hosts:
        row = rows.get(host)
        if row is None:
            out[host] = Watch(False, "no RECON process watches it (is the monitor running?)")
        elif row.expires_at <= now:
            ago = now - row.expires_at + LEASE_SECONDS
            out[host] = Watch(False, f"the process that watched it stopped renewing {ago:.0f} s "
                              "ago; another one takes it over", row.owner)
        elif row.state != "watching":
            out[host] = Watch(False, row.note or "its supervisor is failing", row.owner)
        else:
            out[host] = Watch(True, None, row.owner)
    return out
