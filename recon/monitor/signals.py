"""Learning of unit changes as they happen: systemd's D-Bus signals, read over SSH.

``dbus-monitor`` (shipped with dbus on every systemd host) runs as the plain login user -- no
sudo rule -- on one long-lived channel and prints a ``signal ... path=...`` header for each
``PropertiesChanged`` that systemd emits for a unit object. The watcher only looks at the
path: it wakes the host's supervisor, which then reads the state with ``systemctl show``.
From ``systemctl stop`` on the host to the signal here takes ~10 ms.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable

import paramiko

from recon.config import HostConfig
from recon.ssh import Executor, RemoteError
from recon.ssh.executor import remote_command

UNIT_PATH_PREFIX = "/org/freedesktop/systemd1/unit/"
MATCH_RULE = ("type='signal',sender='org.freedesktop.systemd1',"
              "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
              "path_namespace='/org/freedesktop/systemd1/unit'")
# The remote watcher ends itself after this long and is started again: nothing outlives a
# connection that was lost without the host noticing by more than this.
WATCH_SECONDS = 3600
_PATH_RE = re.compile(rb"\bpath=([^;\s]+)")
NOT_FOUND_EXIT = (126, 127)


def unit_object_path(unit: str) -> str:
    """systemd's bus object path of a unit: every byte outside [A-Za-z0-9] as ``_xx``."""
    escaped = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):02x}" for c in unit)
    if unit[:1].isdigit():
        escaped = f"_{ord(unit[0]):02x}" + escaped[1:]
    return UNIT_PATH_PREFIX + escaped


def watch_argv(host: HostConfig) -> list[str]:
    """The watcher's command: unprivileged, read-only."""
    return [host.dbus_monitor, "--system", MATCH_RULE]


class UnitWatcher:
    """One ``dbus-monitor`` on a host; calls ``on_change`` when one of ``units`` changes.

    ``unavailable`` becomes True when the host has no usable dbus-monitor (the supervisor
    then polls faster instead).
    """

    def __init__(self, executor: Executor, host: HostConfig, units: Iterable[str],
                 on_change: Callable[[], None]):
        self.executor, self.host, self.on_change = executor, host, on_change
        self.paths = {unit_object_path(u).encode() for u in units}
        self.unavailable = False
        self.exit_code: int | None = None  # how the remote watcher ended, if it did
        self.signals = 0
        self._channel: paramiko.Channel | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open the channel and start reading (raises RemoteError if the host refuses)."""
        deadline = time.monotonic() + self.host.connect_timeout
        channel = self.executor.open_channel(self.host, deadline, probe=True)
        try:
            channel.exec_command(remote_command(watch_argv(self.host), WATCH_SECONDS))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            channel.close()
            raise RemoteError(f"cannot start dbus-monitor on {self.host.name}: {exc}",
                              host=self.host.name) from None
        self._channel = channel
        self._thread = threading.Thread(target=self._read, args=(channel,), daemon=True,
                                        name=f"recon-watch-{self.host.name}")
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def watch(self, units: Iterable[str]) -> None:
        """Follow these units from now on (a config reload changed them): the same remote
        dbus-monitor, only the filter here changes."""
        self.paths = {unit_object_path(u).encode() for u in units}

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def _read(self, channel: paramiko.Channel) -> None:
        buffer = b""
        try:
            while True:
                data = channel.recv(65536)
                if not data:
                    break
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                if any(self._ours(line) for line in lines):
                    self.on_change()
        except (OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            if channel.status_event.wait(1) and channel.exit_status_ready():
                self.exit_code = channel.recv_exit_status()
                self.unavailable = self.exit_code in NOT_FOUND_EXIT
            channel.close()
            # The connection may be gone: read the host now rather than at the next poll.
            self.on_change()

    def _ours(self, line: bytes) -> bool:
        if not line.startswith(b"signal "):
            return False
        match = _PATH_RE.search(line)
        if match is None or match.group(1) not in self.paths:
            return False
        self.signals += 1
        return True

