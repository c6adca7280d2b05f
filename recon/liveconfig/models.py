"""The accepted recon.toml revisions, kept in the database when servers share one config."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.db.extensions import db


class ConfigText(db.Model):
    """One revision of recon.toml as some server accepted it; the newest ``at`` is the
    config every server of the database writes to its file (recon.liveconfig.shared)."""

    __tablename__ = "config_text"

    revision: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[float] = mapped_column(index=True)  # when it was last made the current one
    server: Mapped[str] = mapped_column(sa.String(128))  # whose file it came from
