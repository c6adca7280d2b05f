"""Requests that hold a server thread for long (terminal WebSockets, log streams, the fleet's
event streams), counted in SQLite so the caps hold across every gunicorn worker:
``held_threads_max`` in all, ``held_threads_per_process`` in one worker (below its thread
count, so ordinary requests always find a thread), ``held_threads_per_user`` per user, and of
those ``log_streams_per_user`` log streams and ``event_streams_per_user`` event streams.

A slot is taken by ONE ``INSERT ... SELECT ... WHERE count < limit`` (SQLite runs it under
its write lock, so two workers cannot both take the last slot) and given back when the
request ends. Slots of a dead process (crash, kill -9) are pruned by the retention pass and before
a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.core.clock import now
from recon.core.errors import ApiError
from recon.core.process import process_alive, process_id
from recon.db.extensions import db
from recon.web.context import runtime

# The kinds with a cap of their own per user: (setting, what they are called).
PER_KIND = {"log": ("log_streams_per_user", "log streams"),
            "events": ("event_streams_per_user", "event streams")}


class HeldSlot(db.Model):
    __tablename__ = "held_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # "terminal" | "log" | "events"
    user: Mapped[str] = mapped_column(sa.String(200), index=True)
    owner: Mapped[str] = mapped_column(sa.String(64))  # "<pid>:<start time>" of the worker
    created_at: Mapped[float] = mapped_column(default=now)  # epoch seconds


@dataclass(frozen=True)
class Limit:
    setting: str  # the name in recon.toml's [settings]
    value: int
    where: tuple  # which slots count against it
    what: str  # "... are open <what>"


def _limits(kind: str, user: str, owner: str) -> list[Limit]:
    """Every cap a new slot of ``kind`` for ``user`` in process ``owner`` must stay under,
    the narrowest first (a refusal names the first one reached)."""
    s = runtime().config.settings
    limits = []
    if kind in PER_KIND:
        name, label = PER_KIND[kind]
        limits.append(Limit(name, getattr(s, name), (HeldSlot.user == user,
                                                     HeldSlot.kind == kind),
                            f"for {user} as {label}"))
    return limits + [
        Limit("held_threads_per_user", s.held_threads_per_user, (HeldSlot.user == user,),
              f"for {user}"),
        Limit("held_threads_per_process", s.held_threads_per_process,
              (HeldSlot.owner == owner,), "in this server process"),
        Limit("held_threads_max", s.held_threads_max, (), "in all server processes")]


def _count(*where) -> sa.ScalarSelect:
    return sa.select(sa.func.count()).select_from(HeldSlot).where(*where).scalar_subquery()


def _try(kind: str, user: str, owner: str) -> int | None:
    conditions = [_count(*lim.where) < lim.value for lim in _limits(kind, user, owner)]
    row = sa.select(sa.literal(kind), sa.literal(user), sa.literal(owner),
                    sa.literal(now(), sa.Double())).where(*conditions)
    result = db.session.execute(sa.insert(HeldSlot).from_select(
        ["kind", "user", "owner", "created_at"], row))
    if result.rowcount != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return result.lastrowid


def _refusal(kind: str, user: str, owner: str) -> ApiError:
    """The 429 naming the limit that is reached."""
    limits = _limits(kind, user, owner)
    counts = [db.session.scalar(sa.select(_count(*lim.where))) or 0 for lim in limits]
    reached = next((lim for lim, n in zip(limits, counts, strict=True) if n >= lim.value),
                   limits[-1])
    mine = reached.setting.endswith("_per_user")  # the caller's own streams
    hint = ("Close a dashboard, log view or terminal in another tab, or wait for one to end; "
            "pages refresh without their live stream meanwhile." if mine else
            "The server holds as many long-lived streams as it allows (so that it can still "
            "answer everything else); pages refresh without their live stream. Try later.")
    return ApiError(429, "too_many_streams",
                    f"too many long-lived streams are open {reached.what}: the maximum is "
                    f"{reached.value} ({reached.setting})", hint, retry_after=30,
                    limit=reached.setting)


def acquire(kind: str, user: str) -> int:
    """A slot for one long request of ``user``, or a 429 ApiError naming the limit."""
    owner = process_id()
    slot = _try(kind, user, owner)
    if slot is None and prune_dead():
        slot = _try(kind, user, owner)
    if slot is None:
        raise _refusal(kind, user, owner)
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
