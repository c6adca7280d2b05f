"""Mapped terminal logins: which host login a RECON user's browser terminal runs as.

``[terminals.users]`` maps RECON users to host logins fleet-wide; ``[hosts.NAME.terminal_users]``
does so for one host and wins over the fleet-wide entry. A value is a login name, or a table
``{login = "...", key = "user"|"dashboard"}``::

    [terminals.users]
    alice = "alice"                              # RECON's own key for alice
    bob = { login = "bob", key = "dashboard" }   # the host's dashboard key

    [hosts.web1.terminal_users]
    alice = "alice-adm"

A user with no entry gets the host's shared ``terminal_user``. A mapped login must never be the
host's RECON ``user``: that login holds RECON's sudo rules, and a shell must not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from recon.config.declare import REQUIRED, option, read_options, unknown_keys
from recon.config.patterns import USER_RE

# A RECON username (recon.auth.accounts.USERNAME_RE; the config layer cannot import auth).
RECON_USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
KEYS = ("user", "dashboard")


@dataclass(frozen=True)
class TerminalLogin:
    """One RECON user's login on a host (a value of ``terminal_users`` / ``terminals.users``)."""

    login: str = option(REQUIRED, "the login on the host the user's terminal runs as (its "
                        "own groups and sudo rules); never the host's `user`",
                        pattern=USER_RE, problem="missing or not a valid login name",
                        example="alice")
    key: str = option("user", "`user`: a key RECON makes and holds for that RECON user "
                      "(`recon terminal-key show USER` prints it for the login's "
                      "authorized_keys); `dashboard`: the host's dashboard key",
                      choices=KEYS, problem="must be one of {choices}")


# RECON user -> login, in file order; a tuple so HostConfig stays hashable.
Logins = tuple[tuple[str, TerminalLogin], ...]


@dataclass(frozen=True)
class TerminalsConfig:
    """``[terminals]``: settings of browser terminals that are tables, not single values."""

    users: Logins | None = option(
        None, "fleet-wide RECON user = host login (`alice = \"alice\"` or "
        "`bob = { login = \"bob\", key = \"dashboard\" }`); a host's own `terminal_users` "
        "entry wins", kind="table")


def parse_logins(raw: Any, where: str, errors: list[str]) -> Logins:
    """A ``terminal_users`` table checked entry by entry; refused entries are reported."""
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table of RECON user = host login")
        return ()
    out = []
    for user, value in raw.items():
        at = f"{where}.{user}"
        if not RECON_USER_RE.fullmatch(user):
            errors.append(f"{at}: not a RECON username (must match {RECON_USER_RE.pattern})")
            continue
        if isinstance(value, str):
            value = {"login": value}
        if not isinstance(value, dict):
            errors.append(f"{at}: expected a login name or a table {{login, key}}")
            continue
        before = len(errors)
        unknown_keys(TerminalLogin, value, at, errors)
        values = read_options(TerminalLogin, value, at, errors, name_types=True)
        if len(errors) == before:
            out.append((user, TerminalLogin(**values)))
    return tuple(out)


def parse_terminals(raw: Any, where: str, errors: list[str]) -> Logins:
    """The ``[terminals]`` table: its fleet-wide ``users``."""
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table")
        return ()
    unknown_keys(TerminalsConfig, raw, where, errors)
    return parse_logins(raw.get("users", {}), f"{where}.users", errors)


def refuse_recon_login(logins: Logins, host_user: str, where: str, errors: list[str]) -> None:
    """A mapped login equal to the host's RECON ``user`` would hand a shell RECON's rights."""
    for user, entry in logins:
        if entry.login == host_user:
            errors.append(f"{where}.{user}: {entry.login!r} is the host's RECON user; map "
                          "to a login that holds none of RECON's sudo rules")


def login_for(own: Logins | None, fleet: Logins | None, user: str) -> TerminalLogin | None:
    """``user``'s mapped login: the host's own entry, else the fleet-wide one, else None."""
    for table in (own or (), fleet or ()):
        for name, entry in table:
            if name == user:
                return entry
    return None
