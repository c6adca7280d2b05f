"""SSH access to the managed hosts: pooled Paramiko transports and typed failures."""

from recon.ssh.errors import (
    AuthFailed,
    ChannelBusy,
    CommandFailed,
    CommandTimeout,
    ConnectTimeout,
    HostDown,
    HostKeyChanged,
    HostKeyUnknown,
    KeyUnreadable,
    RemoteError,
    SshdRefusing,
    SudoRefused,
    Unreachable,
)
from recon.ssh.executor import CommandResult, Executor
from recon.ssh.hostkeys import HostKeyStore

__all__ = [
    "AuthFailed", "ChannelBusy", "CommandFailed", "CommandResult", "CommandTimeout",
    "ConnectTimeout", "Executor", "HostDown",
    "HostKeyChanged", "HostKeyStore", "HostKeyUnknown", "KeyUnreadable", "RemoteError",
    "SshdRefusing", "SudoRefused", "Unreachable",
]
