"""Terminal sessions and their counters, in SQLite so every worker sees the same state.

Two partial unique indexes over the *open* sessions (``closed_at IS NULL``) make the rules
hold in the database itself, whatever process or thread inserts: one open session per
(user, host, mode), and each user's open sessions occupy distinct slots below the limit.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.core.clock import iso, now
from recon.db.extensions import db

# Only a writable shell. "view" (a second, read-only login shell nobody could type into) was
# removed: with one client per ttyd it could never show the owner's shell, and a read-only
# live view of a service is the logs drawer's follow mode.
MODES = ("shell",)
CLOSE_REASONS = ("user", "ttl", "idle", "process_exited", "orphan", "shutdown", "revoked",
                 "shell_exited")
OPEN = sa.text("closed_at IS NULL")


class TerminalSession(db.Model):
    """One ttyd process serving one user's shell (or view) on one host."""

    __tablename__ = "terminal_sessions"
    __table_args__ = (
        sa.Index("uq_terminal_open_target", "user", "host", "mode", unique=True,
                 sqlite_where=OPEN, postgresql_where=OPEN),
        sa.Index("uq_terminal_open_slot", "user", "slot", unique=True, sqlite_where=OPEN,
                 postgresql_where=OPEN),
        sa.Index("ix_terminal_open", "closed_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user: Mapped[str] = mapped_column(sa.String(200))
    host: Mapped[str] = mapped_column(sa.String(64))
    mode: Mapped[str] = mapped_column(sa.String(8))
    slot: Mapped[int]
    # Unused (a creation token that nothing checked was dropped); kept for existing databases.
    token_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    # The login behind the session: "session:<LoginSession.id>", "token:<ApiToken.id>" or
    # "proxy:<user>"; logging out closes the terminals opened under that login.
    auth_ref: Mapped[str | None] = mapped_column(sa.String(80))
    status: Mapped[str] = mapped_column(sa.String(12), default="starting")  # starting|live|closed
    pid: Mapped[int | None]
    socket_path: Mapped[str] = mapped_column(sa.String(200))
    # "<pid>:<start time>" of the dashboard process that spawned ttyd: when it is gone, the
    # session is an orphan (its ttyd has no parent to reap it and no run to belong to).
    spawner: Mapped[str] = mapped_column(sa.String(64))
    # epoch seconds, as every stored time (core.clock)
    created_at: Mapped[float] = mapped_column(default=now)
    last_activity_at: Mapped[float] = mapped_column(default=now)
    expires_at: Mapped[float]
    closed_at: Mapped[float | None]
    close_reason: Mapped[str | None] = mapped_column(sa.String(16))
    # How ssh ended, when it did (recon.terminals.endings): a stable code, ssh's exit status
    # and its own words; the page says what happened and the fix from these.
    end_code: Mapped[str | None] = mapped_column(sa.String(24))
    end_status: Mapped[int | None]
    end_detail: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def url(self) -> str:
        return f"/terminals/{self.id}/"

    def to_dict(self) -> dict:
        return {
            "id": self.id, "user": self.user, "host": self.host, "mode": self.mode,
            "status": self.status, "url": self.url,
            "created_at": iso(self.created_at), "last_activity_at": iso(self.last_activity_at),
            "expires_at": iso(self.expires_at), "closed_at": iso(self.closed_at),
            "close_reason": self.close_reason, "end_code": self.end_code,
        }


class TerminalCounter(db.Model):
    """Event counters for ``/api/terminals/metrics`` (shared by every worker)."""

    __tablename__ = "terminal_counters"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def bump(name: str, by: int = 1) -> None:
    """Add to a counter inside the caller's transaction (an atomic UPSERT)."""
    from recon.db.transactions import upsert

    stmt = upsert(TerminalCounter).values(name=name, value=by)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=[TerminalCounter.name],
        set_={"value": TerminalCounter.value + by}))
