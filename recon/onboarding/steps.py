"""The runbook's onboarding steps as commands: keygen, host trust, sudoers, check."""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from recon.config import SYSTEMCTL_ACTIONS, HostConfig, ReconConfig, ServiceConfig
from recon.logs.journal import journal_argv
from recon.logs.query import sudoers_journal_command
from recon.monitor.healthcheck import run_checks
from recon.monitor.signals import watch_argv
from recon.onboarding.logins_check import check_mapped_logins
from recon.ssh import CommandTimeout, Executor, HostKeyStore, RemoteError
from recon.ssh.connection import scan_host_key
from recon.ssh.errors import HostKeyChanged, is_sudo_refusal
from recon.ssh.hostkeys import fingerprint
from recon.ssh.systemctl import action_argv, fetch_statuses


def keygen(path: Path) -> str:
    """Create an ed25519 key at ``path`` (0600) unless one exists; return the public line."""
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    key = Ed25519PrivateKey.from_private_bytes(_raw_private(path))
    public = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    return f"{public} recon@{socket.gethostname()}"


def _raw_private(path: Path) -> bytes:
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key
    key = load_ssh_private_key(path.read_bytes(), password=None)
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def sudoers_text(config: ReconConfig, host: HostConfig, slugs: list[str] | None = None) -> str:
    """The scoped sudoers drop-in for a host: only each service's allowed actions."""
    lines = [f"# RECON: rules for {host.user} on {host.name} (from `recon sudoers`)",
             "# Install as /etc/sudoers.d/recon, mode 0440; check with visudo -cf FILE.",
             f"Defaults:{host.user} !requiretty"]
    if host.terminal_user:
        lines.append(f"# No rules for {host.terminal_user} (terminal_user): browser terminals "
                     "log in as it, and must not get these rights.")
    for svc in config.services_on(host.name):
        if slugs and svc.slug not in slugs:
            continue
        lines.append(f"# {svc.slug}: {svc.name}")
        if svc.health is not None:
            lines.append(f"# {svc.slug}: its {svc.health.kind} health check runs as "
                         f"{host.user} ({host.python}), no sudo: no rule needed")
        for action in SYSTEMCTL_ACTIONS:
            if action in svc.actions:
                cmd = " ".join(action_argv(host, action, svc.unit)[2:])
                lines.append(f"{host.user} ALL=(root) NOPASSWD: {cmd}")
        if "logs" in svc.actions:
            # Exactly RECON's journalctl argv (reads, filters, follow); a regex needs sudo
            # >= 1.9.10. `-u UNIT *` would also admit other units and --vacuum-*/--rotate.
            lines.append("# logs (sudo < 1.9.10 has no regex rules: there use the broader "
                         f"`{host.journalctl} -u {svc.unit} *`)")
            lines.append(f"{host.user} ALL=(root) NOPASSWD: "
                         f"{sudoers_journal_command(host.journalctl, svc.unit)}")
    return "\n".join(lines) + "\n"


class Check:
    """Rows of the `recon check` table."""

    def __init__(self) -> None:
        self.rows: list[tuple[bool, str, str, str]] = []

    def add(self, ok: bool, host: str, what: str, fix: str = "") -> bool:
        self.rows.append((ok, host, what, "" if ok else fix))
        return ok

    @property
    def ok(self) -> bool:
        return all(r[0] for r in self.rows)


def check_host(config: ReconConfig, executor: Executor, keys: HostKeyStore,
               host: HostConfig, check: Check) -> None:
    """The runbook's gates for one host, in order; later gates need the earlier ones.
    A failing remote command is a failed gate with its fix, never a traceback."""
    if not _check_login(executor, keys, host, check):
        return
    services = config.services_on(host.name)
    if services:
        _check_services(executor, host, services, check)
        check_unit_signals(executor, host, check)
        check_health(executor, host, services, check)
    check_terminal_user(config, executor, host, check)
    check_mapped_logins(config, executor, host, check, _probes)


def _check_login(executor: Executor, keys: HostKeyStore, host: HostConfig,
                 check: Check) -> bool:
    """TCP, the host key, key login: True when RECON can log in."""
    name = host.name
    ssh = host.ssh_command(keys.path)
    try:
        socket.create_connection((host.address, host.port), timeout=host.connect_timeout).close()
    except OSError as exc:
        check.add(False, name, f"TCP {host.address}:{host.port} reachable ({exc})",
                  f"Start sshd on the host or fix address/port/firewall; try: {ssh} true")
        return False
    check.add(True, name, f"TCP {host.address}:{host.port} reachable")
    try:
        offered = scan_host_key(host)
        keys.verify(host.address, host.port, offered, host.host_key, host=name)
        check.add(True, name, f"host key known and matching ({fingerprint(offered)})")
    except HostKeyChanged as exc:
        check.add(False, name, f"host key: {exc.message}",
                  "Verify the new key on the host (ssh-keygen -lf "
                  "/etc/ssh/ssh_host_ed25519_key.pub), then: "
                  f"flask --app wsgi recon hosts trust {name} --replace")
        return False
    except RemoteError as exc:
        check.add(False, name, f"host key: {exc.message}",
                  f"flask --app wsgi recon hosts trust {name}")
        return False
    try:
        executor.run(host, ["true"])
        check.add(True, name, f"key auth as {host.user}")
    except RemoteError as exc:
        check.add(False, name, f"key auth as {host.user}: {exc.message}",
                  f"{exc.hint} Try: {ssh} true")
        return False
    return True


def _check_services(executor: Executor, host: HostConfig, services: list[ServiceConfig],
                    check: Check) -> None:
    """Each unit exists; then its sudo rules and journal read (skipped while it is missing)."""
    name = host.name
    try:
        statuses = fetch_statuses(executor, host, [s.unit for s in services])
    except RemoteError as exc:
        check.add(False, name, f"systemctl show works: {exc.message}", exc.hint)
        return
    for svc in services:
        found = statuses[svc.unit]["load_state"] not in ("not-found", "unknown")
        check.add(found, name, f"{svc.slug}: unit {svc.unit} exists",
                  f"Install the unit on the host or fix `unit` for {svc.slug} (its sudo and "
                  "journal gates are skipped until it exists).")
        if not found:
            continue
        for action, argv in _probes(host, svc):
            _gate(check, name, f"{svc.slug}: sudo allows {action}",
                  f"Add the line from `flask --app wsgi recon sudoers {svc.slug}` to "
                  "/etc/sudoers.d/ on the host (check with visudo -cf).",
                  # `sudo -l CMD` answers whether the rule matches without running it.
                  lambda argv=argv: executor.run(host, [host.sudo, "-n", "-l", *argv[2:]]))
        if "logs" in svc.actions:
            _gate(check, name, f"{svc.slug}: journal readable (one real read)",
                  f"Compare the host's sudoers with `flask --app wsgi recon sudoers "
                  f"{svc.slug}`; the journal needs journald (or read rights for {host.user}).",
                  lambda svc=svc: executor.run(host, journal_argv(host, svc.unit, 1)))


def check_unit_signals(executor: Executor, host: HostConfig, check: Check) -> None:
    """The monitor's watcher (dbus-monitor, unprivileged) runs on the host: run it for a
    second; still running then means it attached to the system bus."""
    what = f"unit change signals (dbus-monitor as {host.user})"
    try:
        result = executor.run(host, watch_argv(host), timeout=1)
    except CommandTimeout:
        check.add(True, host.name, what)
        return
    except RemoteError as exc:
        check.add(False, host.name, f"{what}: {exc.message}", exc.hint)
        return
    detail = (result.stderr or result.stdout).strip()[:200]
    check.add(False, host.name, f"{what}: exited {result.exit_code} {detail}",
              f"Install dbus (it ships dbus-monitor) or set `dbus_monitor` for {host.name}; "
              "without it the monitor polls the host every monitor_fallback_poll_seconds.")


def check_health(executor: Executor, host: HostConfig, services: list[ServiceConfig],
                 check: Check) -> None:
    """Each health check run once, as the monitor runs it (one command, as the login user,
    no sudo), and its result reported."""
    checked = [s for s in services if s.health is not None]
    if not checked:
        return
    try:
        results = run_checks(executor, host, checked)
    except RemoteError as exc:
        check.add(False, host.name, f"health checks ran: {exc.message}", exc.hint)
        return
    for svc in checked:
        r = results[svc.slug]
        what = f"{svc.slug}: health check {svc.health.kind} {svc.health.target()}"
        latency = r.get("latency_ms")
        detail = f"{r.get('message')}" + (f", {latency:g} ms" if latency is not None else "")
        if r.get("ok") is None:
            fix = (f"Install python3 on {host.name} (apt install python3-minimal) or set "
                   f"hosts.{host.name}.python" if "python" in str(r.get("message")) else
                   "Fix the check's command in recon.toml, or install the program on the host.")
        else:
            fix = (f"The check ran on {host.name} as {host.user} and failed: is "
                   f"{svc.unit} serving? Else fix [services.health] of {svc.slug}.")
        check.add(bool(r.get("ok")), host.name, f"{what} ({detail})", fix)


def _probes(host: HostConfig, svc) -> list[tuple[str, list[str]]]:
    """RECON's sudo commands for a service (only when it uses sudo)."""
    probes = [(a, action_argv(host, a, svc.unit)) for a in SYSTEMCTL_ACTIONS
              if a in svc.actions]
    if "logs" in svc.actions:
        probes.append(("logs", journal_argv(host, svc.unit, 1)))
    return [(a, argv) for a, argv in probes if host.use_sudo and argv[0] == host.sudo]


def _gate(check: Check, host: str, what: str, fix: str, run) -> bool:
    try:
        result = run()
    except RemoteError as exc:
        return check.add(False, host, f"{what}: {exc.message}", exc.hint)
    if is_sudo_refusal(result.exit_code, result.stderr):
        return check.add(False, host, f"{what}: sudo refused", fix)
    detail = "" if result.ok else f" (exit {result.exit_code}: {result.stderr.strip()[:200]})"
    return check.add(result.ok, host, what + detail, fix)


def check_terminal_user(config: ReconConfig, executor: Executor, host: HostConfig,
                        check: Check) -> None:
    """Terminals log in as terminal_user: it must log in, and sudo must grant it none of
    RECON's commands (`sudo -n -l CMD` for each; nothing is run)."""
    if not host.terminal_user:
        check.add(True, host.name, "terminals disabled (no terminal_user set)")
        return
    term = dataclasses.replace(host, user=host.terminal_user)
    try:
        executor.run(term, ["true"])
    except RemoteError as exc:
        check.add(False, host.name, f"terminal login as {term.user}: {exc.message}",
                  f"Create {term.user} on the host and add the dashboard's public key to its "
                  f"~/.ssh/authorized_keys; try: {term.ssh_command(executor.host_keys.path)} "
                  "true")
        return
    check.add(True, host.name, f"terminal login as {term.user}")
    granted = []
    for svc in config.services_on(host.name):
        for action, argv in _probes(host, svc):
            try:
                result = executor.run(term, [host.sudo, "-n", "-l", *argv[2:]])
            except RemoteError as exc:
                check.add(False, host.name, f"terminal user has no RECON sudo rights: "
                          f"{exc.message}", exc.hint)
                return
            if result.ok:
                granted.append(f"{svc.slug} {action}")
    check.add(not granted, host.name,
              f"terminal user {term.user} has no RECON sudo rights"
              + (f" (sudo allows: {', '.join(granted)})" if granted else ""),
              f"Remove every sudoers rule for {term.user}: a browser terminal must not be "
              f"able to do what RECON's {host.user} may.")


def format_rows(check: Check) -> Iterator[str]:
    for ok, host, what, fix in check.rows:
        yield f"{'ok  ' if ok else 'FAIL'}  {host:<12} {what}"
        if fix:
            yield f"      {'':<12} fix: {fix}"
