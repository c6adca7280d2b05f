"""Requests that hold a server thread for long (terminal WebSockets, log streams, the fleet's
event streams), counted in SQLite so the caps hold across every gunicorn worker:
``held_threads_max`` in all, ``held_threads_per_process`` in one worker (below its thread
count, so ordinary requests always find a thread), ``held_threads_per_user`` per user, and of
those ``log_streams_per_user`` log streams and ``event_streams_per_user`` event streams.

A slot is taken by ONE ``INSERT ... SELECT ... WHERE count < limit`` (SQLite runs it under
its write lock, so two workers cannot both take the last slot) and given back when the
request ends. Slots of a dead process (crash, kill -9) are pruned by the retention pass and before
a refusal.

A slot also records the credential behind it (``auth_ref``). When that credential ends
(logout, a revoked token, a user deleted, demoted or given a new password), :func:`end_for`
marks its slots ended in the database -- whichever process makes the change -- and each
process's :class:`Watcher` finds its own ended slots within ``CHECK_SECONDS`` and tells their
streams, which then end.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Mapped, mapped_column

from recon.core.clock import now
from recon.core.errors import ApiError
from recon.core.process import process_alive, process_here, process_host, process_id
from recon.db.extensions import db
from recon.db.transactions import write_transaction
from recon.web.context import runtime

CHECK_SECONDS = 1.0  # how often a process re-reads whether its held slots were ended
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
    # The login behind it ("session:<id>", "token:<id>", "proxy:<user>"; see auth.guard).
    auth_ref: Mapped[str | None] = mapped_column(sa.String(80))
    # Set when that login's rights ended; the row stays (and counts) until the stream ends,
    # so its id is not reused while a watcher may still look for it.
    ended_at: Mapped[float | None] = mapped_column()


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


def _try(kind: str, user: str, owner: str, auth_ref: str | None) -> int | None:
    conditions = [_count(*lim.where) < lim.value for lim in _limits(kind, user, owner)]
    row = sa.select(sa.literal(kind), sa.literal(user), sa.literal(owner),
                    sa.literal(now(), sa.Double()),
                    sa.literal(auth_ref, sa.String())).where(*conditions)
    # One writer at a time: on PostgreSQL two INSERT ... SELECT would both see room.
    with write_transaction() as session:
        return session.execute(sa.insert(HeldSlot).from_select(
            ["kind", "user", "owner", "created_at", "auth_ref"], row)
            .returning(HeldSlot.id)).scalar_one_or_none()


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


def acquire(kind: str, user: str, auth_ref: str | None = None) -> int:
    """A slot for one long request of ``user`` (opened with ``auth_ref``), or a 429 ApiError
    naming the limit."""
    owner = process_id()
    slot = _try(kind, user, owner, auth_ref)
    if slot is None and prune_dead():
        slot = _try(kind, user, owner, auth_ref)
    if slot is None:
        raise _refusal(kind, user, owner)
    return slot


def release(slot: int | None) -> None:
    if slot is None:
        return
    watcher = current_app.extensions.get("recon.slots")
    if watcher is not None:
        watcher.forget(slot)
    try:
        db.session.execute(sa.delete(HeldSlot).where(HeldSlot.id == slot))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


# A process of another machine (a replica) is alive while it renews its monitor membership
# (recon.monitor.sharing: ``host:pid:...``); read by table name, as web/ sits below monitor/.
_MEMBER_ALIVE = sa.text("SELECT 1 FROM monitor_member WHERE owner LIKE :prefix "
                        "AND expires_at > :now LIMIT 1")


def owner_alive(owner: str) -> bool:
    """Whether the process named by ``owner`` (a :func:`recon.core.process.process_id`) runs:
    on this machine, looked at; on another, it renews its monitor membership."""
    if process_here(owner):
        return process_alive(owner)
    pid = owner.partition("@")[0].partition(":")[0]
    return db.session.execute(_MEMBER_ALIVE, {"prefix": f"{process_host(owner)}%:{pid}:%",
                                              "now": now()}).first() is not None


def prune_dead() -> int:
    """Drop the slots of processes that no longer run (on another machine: that stopped
    renewing their monitor membership); returns how many."""
    owners = set(db.session.scalars(sa.select(HeldSlot.owner).distinct()))
    dead = [o for o in owners if not owner_alive(o)]
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


# -- ending the slots of a credential ----------------------------------------------------

def end_for(*, user: str | None = None, auth_ref: str | None = None, **_: object) -> int:
    """Mark the open slots of ``user`` (or opened under ``auth_ref``) ended; returns how
    many. For ``recon.auth.accounts.on_access_ended``: the caller committed its change."""
    if user is None and auth_ref is None:
        return 0
    which = HeldSlot.user == user if user is not None else HeldSlot.auth_ref == auth_ref
    n = db.session.execute(sa.update(HeldSlot).where(which, HeldSlot.ended_at.is_(None))
                           .values(ended_at=now())).rowcount
    db.session.commit()
    watcher = current_app.extensions.get("recon.slots")
    if n and watcher is not None:
        watcher.check_now()  # a stream of this process ends without waiting for the round
    return n


def watch(slot: int) -> threading.Event:
    """An event set once ``slot`` is ended (its credential ended); the stream holding the
    slot checks it while it waits and then ends. :func:`release` stops the watch."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    watcher = app.extensions.setdefault("recon.slots", Watcher(app))
    return watcher.watch(slot)


class Watcher:
    """This process's watched slots, re-read every ``CHECK_SECONDS`` in one query by one
    thread (started with the first watch, gone with the last), so a waiting stream holds no
    database connection."""

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._slots: dict[int, threading.Event] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, slot: int) -> threading.Event:
        with self._lock:
            ended = self._slots.setdefault(slot, threading.Event())
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="recon-slot-watch")
                self._thread.start()
        return ended

    def forget(self, slot: int) -> None:
        with self._lock:
            self._slots.pop(slot, None)

    def check_now(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(CHECK_SECONDS)
            self._wake.clear()
            with self._lock:
                slots = list(self._slots)
                if not slots:
                    self._thread = None
                    return
            try:
                with self.app.app_context():
                    live = set(db.session.scalars(sa.select(HeldSlot.id).where(
                        HeldSlot.id.in_(slots), HeldSlot.ended_at.is_(None))))
            except sa.exc.OperationalError:
                continue  # locked for a moment: the next round looks again
            with self._lock:
                for slot in slots:
                    if slot not in live and slot in self._slots:
                        self._slots[slot].set()
