"""Requests that hold a server thread for long (terminal WebSockets, log streams), counted
in SQLite so the caps hold across every gunicorn worker: ``held_threads_max`` in all,
``held_threads_per_user`` per user, and ``log_streams_per_user`` of them log streams.

A slot is taken by ONE ``INSERT ... SELECT ... WHERE count < limit`` (SQLite runs it under
its write lock, so two workers cannot both take the last slot) and given back when the
request ends. Slots of a dead process (crash, kill -9) are pruned by the retention pass and before
a refusal.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.core.clock import now
from recon.core.errors import ApiError
from recon.core.process import process_alive, process_id
from recon.db.extensions import db
from recon.web.context import runtime


class HeldSlot(db.Model):
    __tablename__ = "held_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # "terminal" | "log"
    user: Mapped[str] = mapped_column(sa.String(200), index=True)
    owner: Mapped[str] = mapped_column(sa.String(64))  # "<pid>:<start time>" of the worker
    created_at: Mapped[float] = mapped_column(default=now)  # epoch seconds


def _count(*where) -> sa.ScalarSelect:
    return sa.select(sa.func.count()).select_from(HeldSlot).where(*where).scalar_subquery()


def _try(kind: str, user: str, owner: str) -> int | None:
    s = runtime().config.settings
    conditions = [_count() < s.held_threads_max,
                  _count(HeldSlot.user == user) < s.held_threads_per_user]
    if kind == "log":
        conditions.append(_count(HeldSlot.user == user, HeldSlot.kind == "log")
                          < s.log_streams_per_user)
    row = sa.select(sa.literal(kind), sa.literal(user), sa.literal(owner),
                    sa.literal(now(), sa.Double())).where(*conditions)
    result = db.session.execute(sa.insert(HeldSlot).from_select(
        ["kind", "user", "owner", "created_at"], row))
    if result.rowcount != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return result.lastrowid


def acquire(kind: str, user: str) -> int:
    """A slot for one long request of ``user``, or a 429 ApiError naming the limit."""
    owner = process_id()
    slot = _try(kind, user, owner)
    if slot is None and prune_dead():
        slot = _try(kind, user, owner)
    if slot is None:
        s = runtime().config.settings
        raise ApiError(429, "too_many_streams",
                       f"too many open terminals and log streams (per user "
                       f"{s.held_threads_per_user}, log streams per user "
                       f"{s.log_streams_per_user}, in all {s.held_threads_max})",
                       "Close a terminal or a log view in another tab and try again.")
    return slot


def release(slot: int | None) -> None:
    if slot is None:
        return
    try:
        db.session.execute(sa.delete(HeldSlot).where(HeldSlot.id == slot))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def prune_dead() -> int:
    """Drop the slots of processes that no longer run; returns how many."""
    owners = set(db.session.scalars(sa.select(HeldSlot.owner).distinct()))
    dead = [o for o in owners if not process_alive(o)]
    if not dead:
        return 0
    n = db.session.execute(sa.delete(HeldSlot).where(HeldSlot.owner.in_(dead))).rowcount
    db.session.commit()
    return n


def held(user: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(HeldSlot)
    if user is not None:
        query = query.where(HeldSlot.user == user)
    return db.session.scalar(query) or 0
