"""Who a terminal is on its host: the login and key it uses, and what that login may do.

:func:`resolve` picks the login when a terminal opens -- the user's mapped login
(``recon.config.terminal_users``) with their own key or the dashboard's, else the host's shared
``terminal_user`` -- and :func:`record` stores it beside the session, so the page says what the
terminal really is even if the config changes later. :func:`probe` then runs, once per
session, ``id -Gn`` and ``sudo -n -l`` *as that login* (its own key, no sudo rule of RECON's,
a short timeout; fixed argv, nothing from a request) and keeps the summary for the page.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recon.config import HostConfig, ReconConfig
from recon.core.clock import iso, now
from recon.core.errors import ApiError
from recon.db.extensions import db
from recon.ssh import Executor, RemoteError
from recon.terminals import userkeys
from recon.terminals.models import TerminalSession

PROBE_TIMEOUT = 5.0
RULES_SHOWN = 3  # rules named in the one-line summary; the page lists them all


class TerminalIdentity(db.Model):
    """The login a session's shell runs as, and (once probed) what that login may do."""

    __tablename__ = "terminal_identities"

    session_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("terminal_sessions.id", ondelete="CASCADE"),
        primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(32))
    # "user" (RECON's key for this user), "dashboard" (a mapped login on the dashboard's
    # key) or "shared" (the host's terminal_user)
    key_kind: Mapped[str] = mapped_column(sa.String(12))
    probed_at: Mapped[float | None]
    probe: Mapped[str | None] = mapped_column(sa.Text)  # JSON, see summarise()


@dataclass(frozen=True)
class Identity:
    login: str
    key_path: Path
    key_kind: str

    @property
    def mapped(self) -> bool:
        return self.key_kind != "shared"


def resolve(config: ReconConfig, host: HostConfig, user: str) -> Identity | None:
    """The login ``user``'s terminal on ``host`` runs as; None when there is none (no
    mapping and no ``terminal_user``). A mapping on RECON's own key that has no key yet is
    refused with the command that makes it."""
    entry = config.terminal_login(host, user)
    if entry is None:
        if not host.terminal_user:
            return None
        return Identity(host.terminal_user, host.key_path, "shared")
    if entry.key == "dashboard":
        return Identity(entry.login, host.key_path, "dashboard")
    path = userkeys.key_path(user)
    if not path.is_file():
        raise ApiError(409, "terminal_key_missing",
                       f"{user} is mapped to {entry.login} on {host.name}, but RECON holds "
                       f"no terminal key for {user} yet",
                       f"An admin makes it with `flask --app wsgi recon terminal-key show "
                       f"{user}` (or POST /api/users/{user}/terminal-key) and installs the "
                       f"printed line in ~{entry.login}/.ssh/authorized_keys on {host.name}.")
    return Identity(entry.login, path, "user")


def as_login(host: HostConfig, ident: Identity) -> HostConfig:
    """``host`` as that login sees it: the executor then connects as it, with its key."""
    return dataclasses.replace(host, user=ident.login, key_path=ident.key_path,
                               max_channels=2)


def record(session_id: str, ident: Identity) -> None:
    """Store the session's login (the caller commits)."""
    db.session.merge(TerminalIdentity(session_id=session_id, login=ident.login,
                                      key_kind=ident.key_kind))


def get(session_id: str) -> TerminalIdentity | None:
    return db.session.get(TerminalIdentity, session_id, populate_existing=True)


def probe(executor_keys, host: HostConfig, row: TerminalIdentity) -> dict:
    """Run ``id -Gn`` and ``sudo -n -l`` as the session's login, once: the stored summary
    if there is one, else a fresh one (stored). ``executor_keys``: RECON's HostKeyStore."""
    if row.probe is not None:
        return json.loads(row.probe)
    key = userkeys.key_path(_owner(row)) if row.key_kind == "user" else host.key_path
    target = as_login(host, Identity(row.login, key, row.key_kind))
    # A connection of its own, closed after: a login's probe must not stay in RECON's pool.
    executor = Executor(executor_keys)
    try:
        groups = executor.run(target, ["id", "-Gn"], timeout=PROBE_TIMEOUT)
        sudo = executor.run(target, [host.sudo, "-n", "-l"], timeout=PROBE_TIMEOUT)
        result = summarise(groups.stdout, sudo.exit_code, sudo.stdout, sudo.stderr)
    except RemoteError as exc:
        # Not stored: the next page load tries again (the host may be back).
        return {"error": exc.message, "summary": f"could not ask the host: {exc.message}"}
    finally:
        executor.close_all()
    db.session.execute(sa.update(TerminalIdentity).where(
        TerminalIdentity.session_id == row.session_id).values(
        probe=json.dumps(result), probed_at=now()))
    db.session.commit()
    return result


def open_on_user_key(user: str) -> list[str]:
    """Ids of ``user``'s open sessions that logged in with RECON's key for them."""
    return list(db.session.scalars(sa.select(TerminalSession.id).join(
        TerminalIdentity, TerminalIdentity.session_id == TerminalSession.id).where(
        TerminalSession.user == user, TerminalSession.closed_at.is_(None),
        TerminalIdentity.key_kind == "user")))


def _owner(row: TerminalIdentity) -> str:
    return db.session.get(TerminalSession, row.session_id).user


def summarise(groups: str, status: int, out: str, err: str) -> dict:
    """What ``sudo -n -l`` said, for people: ``sudo`` is ``rules`` (password-less rules
    listed), ``password`` (sudo wants a password RECON never has), ``none`` or ``unknown``."""
    group_list = groups.split()
    rules: list[str] = []
    if status == 0:
        listing = out.split("may run the following commands", 1)
        body = listing[1].split("\n", 1)[1] if len(listing) > 1 and "\n" in listing[1] else ""
        rules = [line.strip() for line in body.splitlines() if line.strip()]
        state = "rules" if rules else "none"
    elif "password is required" in err:
        state = "password"
    elif "may not run sudo" in err + out or "not in the sudoers" in err:
        state = "none"
    else:
        state = "unknown"
    if state == "rules":
        shown = ", ".join(rules[:RULES_SHOWN]) + (" ..." if len(rules) > RULES_SHOWN else "")
        summary = f"may run: {shown} ({len(rules)} rule{'s' if len(rules) != 1 else ''})"
    elif state == "password":
        summary = "no password-less sudo rights (sudo asks for a password)"
    elif state == "none":
        summary = "no sudo rights"
    else:
        summary = f"sudo -n -l said: {(err or out).strip()[:200] or f'exit {status}'}"
    return {"groups": group_list, "sudo": state, "rules": rules, "summary": summary}


def describe(row: TerminalIdentity | None, host: str) -> dict:
    """The identity for the page and the API."""
    if row is None:
        return {"login": None, "host": host, "mapped": False, "key": None, "probe": None}
    return {"login": row.login, "host": host, "mapped": row.key_kind != "shared",
            "key": row.key_kind, "probed_at": iso(row.probed_at),
            "probe": json.loads(row.probe) if row.probe else None}
