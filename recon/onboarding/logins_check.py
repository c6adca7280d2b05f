"""`recon check`'s gates for mapped terminal logins (``recon.config.terminal_users``).

For each RECON user mapped to a login on the host: RECON holds the key it logs in with, that
key logs in, and sudo grants the login none of RECON's own commands (``sudo -n -l CMD`` for
each, as :func:`recon.onboarding.steps.check_terminal_user` does for the shared login; nothing
is run). The login's *own* rules are its business: they are listed on its terminal page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from recon.config import HostConfig, ReconConfig, ServiceConfig
from recon.ssh import Executor, RemoteError
from recon.terminals import userkeys
from recon.terminals.identity import Identity, as_login

Probes = Callable[[HostConfig, ServiceConfig], list[tuple[str, list[str]]]]


class Check(Protocol):
    """The `recon check` table (:class:`recon.onboarding.steps.Check`, which calls us)."""

    def add(self, ok: bool, host: str, what: str, fix: str = "") -> bool: ...


def mapped_users(config: ReconConfig, host: HostConfig) -> list[str]:
    """The RECON users with a login of their own on ``host`` (its table, then the fleet's)."""
    names = [name for name, _ in (*(host.terminal_users or ()),
                                  *(config.terminal_users or ()))]
    return list(dict.fromkeys(names))


def check_mapped_logins(config: ReconConfig, executor: Executor, host: HostConfig,
                        check: Check, probes: Probes) -> None:
    """The gates of every mapped login on ``host``, each on a connection of its own (closed
    after: these logins are not RECON's to keep connected)."""
    users = mapped_users(config, host)
    if not users:
        return
    own = Executor(executor.host_keys)
    try:
        for user in users:
            _check_one(config, own, host, user, check, probes)
    finally:
        own.close_all()


def _check_one(config: ReconConfig, executor: Executor, host: HostConfig, user: str,
               check: Check, probes: Probes) -> None:
    entry = config.terminal_login(host, user)
    assert entry is not None
    what = f"mapped login {entry.login} (for {user})"
    if entry.key == "dashboard":
        ident = Identity(entry.login, host.key_path, "dashboard")
        install = "the dashboard's public key (flask --app wsgi recon keygen prints it)"
    else:
        path = userkeys.key_path(user)
        if not check.add(path.is_file(), host.name, f"{what}: RECON holds {user}'s key",
                         f"flask --app wsgi recon terminal-key show {user}, then add the "
                         f"printed line to ~{entry.login}/.ssh/authorized_keys on {host.name}"):
            return
        ident = Identity(entry.login, path, "user")
        install = f"the line of `flask --app wsgi recon terminal-key show {user}`"
    target = as_login(host, ident)
    try:
        executor.run(target, ["true"])
    except RemoteError as exc:
        check.add(False, host.name, f"{what}: key auth: {exc.message}",
                  f"Create {entry.login} on {host.name} (README \"Terminals as yourself\") and "
                  f"add {install} to ~{entry.login}/.ssh/authorized_keys.")
        return
    check.add(True, host.name, f"{what}: key auth")
    granted = []
    for svc in config.services_on(host.name):
        for action, argv in probes(host, svc):
            try:
                result = executor.run(target, [host.sudo, "-n", "-l", *argv[2:]])
            except RemoteError as exc:
                check.add(False, host.name, f"{what} has no RECON sudo rights: {exc.message}",
                          exc.hint)
                return
            if result.ok:
                granted.append(f"{svc.slug} {action}")
    check.add(not granted, host.name, f"{what} has no RECON sudo rights"
              + (f" (sudo allows: {', '.join(granted)})" if granted else ""),
              f"Remove the sudoers rules that give {entry.login} RECON's commands (its own "
              f"rules may stay): a terminal must not be able to do what {host.user} may.")
