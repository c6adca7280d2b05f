"""SSH access to the managed hosts: pooled Paramiko transports and typed failures."""

from .errors import (
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
    SudoRefused,
    Unreachable,
)
from .executor import CommandResult, Executor
from .hostkeys import HostKeyStore

__all__ = [
    "AuthFailed", "ChannelBusy", "CommandFailed", "CommandResult", "CommandTimeout",
    "ConnectTimeout", "Executor", "HostDown",
    "HostKeyChanged", "HostKeyStore", "HostKeyUnknown", "KeyUnreadable", "RemoteError",
    "SudoRefused", "Unreachable",
]
