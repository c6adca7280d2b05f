"""Why a terminal's shell ended, in words that say what happened and how to fix it.

ttyd runs ``ssh`` through :data:`SSH_WRAPPER`, which keeps ssh's own stderr (with ``-tt`` the
remote side's output comes through the pty, so that file holds only ssh's complaints: refused,
timed out, host key, publickey) in ``<session>.ssh-err`` and its exit status in
``<session>.exit``, both in the session's private run folder. When the session closes,
:func:`read` turns them into an :class:`Ending` (a stable ``code`` from RECON's SSH
vocabulary, see :mod:`recon.ssh.errors`, plus ssh's last words) stored on the row, and
:func:`describe` words it for the page and the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from recon.config import HostConfig
from recon.ssh.errors import HostKeyChanged, HostKeyUnknown, KeyUnreadable

# Says where it connects (the user sees a live terminal before ssh's handshake is done), runs
# ssh with its stderr kept for RECON, shows what ssh said, then records the exit status (last:
# its presence means ssh is done).
SSH_WRAPPER = r"""
label=$1; out=$2; shift 2
printf '[RECON] connecting to %s ...\r\n' "$label"
started=$(date +%s)
"$@" 2>"$out.ssh-err"
rc=$?
cat "$out.ssh-err"
printf '%s %s\n' "$rc" "$(( $(date +%s) - started ))" > "$out.exit"
if [ "$rc" -ne 0 ]; then
  printf '\r\n[RECON] the connection to %s ended (ssh exit status %s).\r\n' "$label" "$rc"
fi
exit "$rc"
"""
DETAIL_MAX = 1500
SSH_FAILED = 255  # ssh's own failure; any other status is the remote shell's
# At LogLevel=ERROR ssh reports every way a connect fails (refused, timed out, auth, host
# key); one that ends with 255 and not a word had connected and lost it. The time it ran is
# recorded too (``<session>.exit``: "status seconds") for the page.
CONNECTED_AFTER = 0


@dataclass(frozen=True)
class Ending:
    code: str
    exit_status: int | None
    detail: str  # what ssh said (its stderr, trimmed)


def files(prefix: Path) -> tuple[Path, Path]:
    """The wrapper's two files for a session whose files start with ``prefix``."""
    return prefix.with_name(prefix.name + ".ssh-err"), prefix.with_name(prefix.name + ".exit")


# (code, pattern in ssh's stderr), first match wins: the host key and handshake cases first,
# since their messages also contain words of the later ones.
_RULES: tuple[tuple[str, str], ...] = (
    ("host_key_changed", r"REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed"),
    ("host_key_unknown", r"No \S+ host key is known|Host key verification failed"),
    ("key_unreadable", r"Load key|no such identity|UNPROTECTED PRIVATE KEY|invalid format"),
    ("auth_failed", r"Permission denied \(|Too many authentication failures"),
    ("sshd_not_accepting", r"banner exchange|kex_exchange_identification|"
                           r"Connection closed by \S+ port|Connection reset by \S+ port"),
    ("sshd_refused", r"Connection refused"),
    ("unreachable", r"Connection timed out|No route to host|Network is unreachable|"
                    r"Could not resolve hostname|Name or service not known"),
    ("connection_lost", r"closed by remote host|Broken pipe|Connection reset|"
                        r"Timeout, server|not responding|client_loop"),
)


def classify(exit_status: int | None, stderr: str, *, had_shell: bool = False) -> str:
    """The code for how ssh ended: ``shell_exited`` when the remote shell ended (ssh passes
    its status through), else what ssh's own message says (``ssh_failed`` if nothing fits).
    ``had_shell``: the session was connected before; ssh failing then without a word (at
    LogLevel=ERROR it does not always say "closed by remote host") lost its connection."""
    if exit_status is not None and exit_status != SSH_FAILED and not _matches(stderr):
        return "shell_exited"
    for code, pattern in _RULES:
        if re.search(pattern, stderr):
            return code
    if exit_status == SSH_FAILED and had_shell and not stderr.strip():
        return "connection_lost"
    return "shell_exited" if exit_status in (0, None) else "ssh_failed"


def _matches(stderr: str) -> bool:
    return any(re.search(p, stderr) for _, p in _RULES)


def _clean(text: str) -> str:
    """ssh's stderr for showing: printable lines, no CRs, the last ``DETAIL_MAX`` chars."""
    text = re.sub(r"[^\x20-\x7e\n]", "", text.replace("\r", ""))
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines)[-DETAIL_MAX:]


def read(prefix: Path, *, had_shell: bool = False) -> Ending | None:
    """The ending the wrapper recorded for the session at ``prefix``; None if ssh has not
    ended (or never ran: no browser attached). ``had_shell``: see :func:`classify`."""
    err, status = files(prefix)
    try:
        raw, _, ran = status.read_text().strip().partition(" ")
    except OSError:
        return None
    try:
        detail = _clean(err.read_text(errors="replace"))
    except OSError:
        detail = ""
    code_status = int(raw) if raw.lstrip("-").isdigit() else None
    # ssh that ran a while before failing had connected (a refused or timed-out connect says
    # so on stderr within the connect timeout): wordless, it lost the connection.
    had_shell = had_shell or (ran.isdigit() and int(ran) >= CONNECTED_AFTER)
    return Ending(classify(code_status, detail, had_shell=had_shell), code_status, detail)


def describe(code: str | None, exit_status: int | None, detail: str | None,
             host: HostConfig | None, host_name: str) -> dict | None:
    """``{code, title, message, hint, exit_status, detail}`` for the page and the API."""
    if not code:
        return None
    where = f"{host.address}:{host.port}" if host else host_name
    user = host.terminal_user if host else "the terminal login"
    fingerprint = re.search(r"SHA256:[A-Za-z0-9+/=]+", detail or "")
    title, message, hint = _WORDS.get(code, _WORDS["ssh_failed"])
    fill = {"host": host_name, "where": where, "user": user, "status": exit_status,
            "fingerprint": fingerprint.group(0) if fingerprint else "(see ssh's message)"}
    return {"code": code, "title": title.format(**fill), "message": message.format(**fill),
            "hint": hint.format(**fill), "exit_status": exit_status, "detail": detail or ""}


_WORDS: dict[str, tuple[str, str, str]] = {
    "shell_exited": (
        "Disconnected (shell exited)",
        "The shell on {host} ended (exit status {status}).",
        "Open a new terminal from the dashboard to go on."),
    "sshd_refused": (
        "Cannot connect: sshd refused the connection",
        "Nothing accepts SSH on {where}: the connection was refused. {host} is up, but its "
        "sshd is stopped or listens on another port.",
        "On {host}, start sshd (`systemctl start ssh`, `systemctl status ssh` says why it "
        "stopped), or fix hosts.{host}.port in recon.toml; then open a new terminal."),
    "unreachable": (
        "Cannot connect: {host} does not answer",
        "{host} did not answer at {where}: the host is down, or the network or a firewall "
        "drops the connection.",
        "Check that {host} is up and reachable from RECON's machine "
        "(`ssh -o BatchMode=yes -o ConnectTimeout=5 -p PORT {user}@HOST true`), and its "
        "address in recon.toml; then open a new terminal."),
    "sshd_not_accepting": (
        "Cannot connect: sshd is not accepting new connections",
        "{where} accepted the connection but closed it or stalled before the SSH handshake: "
        "sshd is overloaded (MaxStartups), shutting down, or the port is not sshd's.",
        "On {host}, look at `journalctl -u ssh` (\"beginning MaxStartups throttling\", "
        "\"drop connection\") and the load; wait or restart sshd, then open a new terminal."),
    "auth_failed": (
        "Cannot connect: {host} refused RECON's key",
        "{host} refused the dashboard's key for the terminal login {user} (publickey).",
        "Put the dashboard's public key into ~{user}/.ssh/authorized_keys on {host} (owned by "
        "{user}, mode 0600) and check the login with `flask --app wsgi recon check {host}`; "
        "then open a new terminal."),
    "host_key_changed": (
        "Cannot connect: {host}'s host key has changed",
        "{host} presented a different host key ({fingerprint}) than the one RECON trusts, so "
        "ssh refused to connect.",
        HostKeyChanged.hint.replace("{", "{{").replace("}", "}}")
        + " The new key's fingerprint: {fingerprint}."),
    "host_key_unknown": (
        "Cannot connect: {host}'s host key is unknown",
        "RECON has no trusted host key for {where}, so ssh refused to connect.",
        HostKeyUnknown.hint.replace("{", "{{").replace("}", "}}")),
    "key_unreadable": (
        "Cannot connect: the dashboard's key cannot be used",
        "ssh could not load the dashboard's private key for {host}.",
        KeyUnreadable.hint.replace("{", "{{").replace("}", "}}")),
    "connection_lost": (
        "Disconnected: the connection to {host} dropped",
        "The SSH connection to {where} ended during the session: the host went down or "
        "rebooted, sshd dropped its sessions, or the network failed.",
        "Check {host}'s uptime (`uptime`, `journalctl -b -1`) and `journalctl -u ssh`, then "
        "open a new terminal."),
    "ssh_failed": (
        "Cannot connect: ssh failed",
        "ssh to {where} failed (exit status {status}); its message is below.",
        "`flask --app wsgi recon check {host}` tests the terminal login step by step."),
}
