"""One row per recorded terminal session: who, where, when, how much (the file is the cast)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.core.clock import iso
from recon.db.extensions import db


class TerminalRecording(db.Model):
    """A terminal session's recording; its id is the session's id."""

    __tablename__ = "terminal_recordings"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user: Mapped[str] = mapped_column(sa.String(200))
    host: Mapped[str] = mapped_column(sa.String(64))
    file: Mapped[str] = mapped_column(sa.String(80))  # under <instance>/recordings
    # epoch seconds, as every stored time: the session's start (the cast's time base) and
    # the end of the last WebSocket recorded (None while the first is still open)
    started_at: Mapped[float] = mapped_column(index=True)
    ended_at: Mapped[float | None]
    bytes_recorded: Mapped[int] = mapped_column(default=0)  # terminal bytes, uncompressed
    size_cap_hit: Mapped[bool] = mapped_column(default=False)
    input_recorded: Mapped[bool] = mapped_column(default=False)

    def to_dict(self, size: int | None = None) -> dict:
        end = self.ended_at
        return {
            "id": self.id, "session_id": self.id, "user": self.user, "host": self.host,
            "started_at": iso(self.started_at), "ended_at": iso(end),
            "duration_seconds": round(end - self.started_at, 1) if end else None,
            "bytes_recorded": self.bytes_recorded, "size": size,
            "size_cap_hit": self.size_cap_hit, "input_recorded": self.input_recorded,
            "url": f"/recordings/{self.id}", "cast_url": f"/api/recordings/{self.id}",
        }
