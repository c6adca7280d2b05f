"""Which config every live process runs: two servers on one database must run one config.

Each member of the monitor records its config revision and its server
(``host:pid of the process that started it``). Processes of one server reach a new revision
within a second or two of each other; a difference that lasts longer than
:data:`SETTLE_SECONDS` is a split -- e.g. a second server started with another file on the
same database, whose hosts, channels and services the first does not know -- and is
reported in ``/healthz``, ``/api/config`` and the log. A server that would start into a
split is refused (:func:`startup_refusal`).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass

from recon.monitor import sharing

log = logging.getLogger("recon.liveconfig")
SETTLE_SECONDS = 10.0


@dataclass(frozen=True)
class Member:
    owner: str
    server: str
    revision: str


def members() -> list[Member]:
    """The live monitoring processes (in an app context)."""
    return [Member(*row) for row in sharing.member_configs()]


_first_split: dict[frozenset[str], float] = {}


def split(mine: str, now: float | None = None) -> list[Member]:
    """The live processes that have run another revision than ``mine`` for longer than
    :data:`SETTLE_SECONDS` (empty when all agree)."""
    now = time.time() if now is None else now
    others = [m for m in members() if m.revision and m.revision != mine]
    key = frozenset(m.revision for m in others)
    if not others:
        _first_split.clear()
        return []
    first = _first_split.setdefault(key, now)
    for stale in [k for k in _first_split if k != key]:
        del _first_split[stale]
    return others if now - first >= SETTLE_SECONDS else []


def _alive_here(owner: str) -> bool:
    """False for a member of this machine whose process is gone (its row lingers for up to
    a membership's length after a restart)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def startup_refusal(revision: str, source: str) -> str | None:
    """Why a server about to start with config ``revision`` must not (None when it may):
    live processes of another server run another revision on the same database."""
    others = [m for m in members() if m.revision and m.revision != revision
              and _alive_here(m.owner)]
    if not others:
        return None
    servers = sorted({m.server or m.owner for m in others})
    return (f"Another RECON server on this database runs a different recon.toml "
            f"(revision {others[0].revision}, server {', '.join(servers)}); this one would "
            f"run {source} (revision {revision}).\n"
            "Two servers on one database share the hosts and the notifications, so they "
            "must run one config: give this server its own database (RECON_DATABASE_URI), "
            "stop the other one, or use the same recon.toml on both.")
