"""Typed SSH failures, each with a stable code, an HTTP status and a hint that says the fix."""

from __future__ import annotations

import math

from recon.core.errors import ReconError


class RemoteError(ReconError):
    """Base of every failure talking to a host. ``code`` is stable API vocabulary."""

    code = "remote_error"
    status = 502
    hint = "Check the host's SSH service and RECON's configuration for it."

    def __init__(self, message: str, *, hint: str | None = None, host: str | None = None,
                 retry_after: int | None = None):
        super().__init__(message, hint=hint, retry_after=retry_after)
        self.host = host

    def to_dict(self) -> dict[str, str]:
        """The JSON error body, naming the host (the HTTP layer adds its ssh command)."""
        body = super().to_dict()
        if self.host:
            body["host"] = self.host
        return body


class Unreachable(RemoteError):
    code = "unreachable"
    hint = ("Check that the host is up, that sshd listens on the configured address and port, "
            "and that no firewall is in the way: "
            "ssh -o BatchMode=yes -o ConnectTimeout=5 USER@HOST hostname")


class CommandFailed(RemoteError):
    code = "command_failed"
    hint = "The host answered but the command failed; its stderr is in the message."


class CommandTimeout(RemoteError):
    code = "timeout"
    status = 504
    hint = ("The remote command did not finish within the host's command_timeout; it was "
            "stopped on the host. Look at the service's logs, or raise command_timeout.")


class ConnectTimeout(RemoteError):
    """The host accepted TCP but did not get through the SSH handshake (or open a channel) in
    time: a stalled or overloaded host, or something that is not sshd on that port."""

    code = "timeout"
    status = 504
    hint = ("The host accepted the connection but did not answer SSH in time: it may be "
            "overloaded or hung, or the port is not sshd's. RECON replaced the connection and "
            "keeps probing the host in the background.")


class HostDown(RemoteError):
    """The host failed recently and is in back-off: answered at once, without trying."""

    code = "host_down"
    status = 503

    def __init__(self, message: str, *, since: float, cause: RemoteError,
                 retry_in: float, host: str | None = None):
        # Retry-After: when the back-off lets the next caller try (unknown for a verdict).
        super().__init__(message, hint=cause.hint, host=host,
                         retry_after=math.ceil(retry_in) if retry_in > 0 else None)
        self.since, self.cause, self.retry_in = since, cause, retry_in

    def to_dict(self) -> dict:
        body = super().to_dict()
        body.update(cause=self.cause.code, down_since=_iso(self.since),
                    retry_in_seconds=round(self.retry_in, 1))
        return body


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


class AuthFailed(RemoteError):
    code = "auth_failed"
    hint = ("The host refused the dashboard's key (publickey denied): put the dashboard's public "
            "key into the target user's ~/.ssh/authorized_keys, or fix the configured user.")


class KeyUnreadable(RemoteError):
    """The message names no file (viewers see it, e.g. as a host's state); the ssh command
    admins get with the error names the key."""

    code = "key_unreadable"
    status = 500
    hint = ("The dashboard's private key could not be loaded: check the host's `key` path, its "
            "permissions (0600, readable by the dashboard's user) and that it has no passphrase.")


def key_problem(host: str, path: str, exc: Exception) -> str:
    """The message of a key that cannot be loaded, without its path."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return (f"cannot load the private key configured for {host}: "
            f"{reason.replace(path, 'the key file')}")


class HostKeyUnknown(RemoteError):
    code = "host_key_unknown"
    hint = ("RECON has no trusted key for this host. Verify the fingerprint on the host "
            "(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it to the instance "
            "known_hosts file, or pin it as host_key in recon.toml.")


class HostKeyChanged(RemoteError):
    code = "host_key_changed"
    hint = ("The host presented a different key than the one RECON trusts: the host was "
            "reinstalled or someone is intercepting the connection. Verify the new key on the "
            "host before replacing the entry in known_hosts.")


class SudoRefused(RemoteError):
    code = "sudo_password_required"
    status = 403
    hint = ("sudo asked for a password: the sudoers drop-in on the host is missing or does not "
            "match this exact command (paths and arguments must match). Check it with "
            "visudo -cf /etc/sudoers.d/FILE.")


# Remote commands run under LC_ALL=C (see executor.remote_command), so sudo's refusal is
# always this English text. The ONE place that recognises it.
SUDO_REFUSAL = "a password is required"


def is_sudo_refusal(exit_code: int | None, output: str) -> bool:
    """Whether sudo (run with -n) refused a command for want of a matching NOPASSWD rule.
    ``output`` is stderr, or the merged output of a command on a pty."""
    return exit_code != 0 and SUDO_REFUSAL in output


class ChannelBusy(RemoteError):
    code = "host_busy"
    status = 503
    hint = "Too many commands are in flight to this host; retry in a moment."


class SshdRefusing(RemoteError):
    """sshd takes no new connections while the monitor's open one still works: the host is
    ``degraded``, not down (:mod:`recon.ssh.banner`)."""

    code = "sshd_refusing"
    status = 503
    hint = ("Start sshd on the host (systemctl start ssh) or find why it drops new connections "
            "(journalctl -u ssh; MaxStartups). RECON's open connection keeps the status "
            "current meanwhile, but new terminals, log streams and reconnects fail.")
