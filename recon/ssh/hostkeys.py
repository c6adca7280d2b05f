"""Host key trust: the instance known_hosts file plus keys pinned in config.

Nothing here ever adds a key on its own: an unknown key and a changed key are two distinct
errors, and trusting a key is an explicit act of the operator.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

import paramiko

from recon.ssh.errors import HostKeyChanged, HostKeyUnknown


def known_hosts_name(address: str, port: int) -> str:
    """The name OpenSSH writes in known_hosts for ``address:port``."""
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint, as ``ssh-keygen -lf`` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_public_key(line: str) -> paramiko.PKey:
    """A ``TYPE BASE64`` line (as in a .pub file) as a Paramiko key."""
    key_type, data = line.split()[:2]
    return paramiko.PKey.from_type_string(key_type, base64.b64decode(data))


class HostKeyStore:
    """Trusted host keys, re-read when the known_hosts file changes on disk."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._keys = paramiko.HostKeys()

    def _current(self) -> paramiko.HostKeys:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        with self._lock:
            if mtime != self._mtime:
                keys = paramiko.HostKeys()
                if mtime is not None:
                    keys.load(str(self.path))
                self._keys, self._mtime = keys, mtime
            return self._keys

    def trusted(self, address: str, port: int, pinned: str | None = None) -> list[paramiko.PKey]:
        """Every key trusted for this endpoint: the pinned one first, then known_hosts."""
        keys = [parse_public_key(pinned)] if pinned else []
        entry = self._current().lookup(known_hosts_name(address, port))
        if entry:
            keys.extend(entry.values())
        return keys

    def verify(self, address: str, port: int, offered: paramiko.PKey,
               pinned: str | None = None, host: str | None = None) -> None:
        """Accept ``offered`` only if it is trusted; raise the matching typed error if not."""
        trusted = self.trusted(address, port, pinned)
        where = known_hosts_name(address, port)
        if any(k.get_name() == offered.get_name() and k.asbytes() == offered.asbytes()
               for k in trusted):
            return
        if trusted:
            raise HostKeyChanged(
                f"host key for {where} changed: it offered {offered.get_name()} "
                f"{fingerprint(offered)}, RECON trusts "
                + ", ".join(f"{k.get_name()} {fingerprint(k)}" for k in trusted),
                host=host,
            )
        raise HostKeyUnknown(
            f"no trusted host key for {where}; it offered {offered.get_name()} "
            f"{fingerprint(offered)}",
            host=host,
        )

    def add(self, address: str, port: int, key: paramiko.PKey, replace: bool = False) -> None:
        """Write a key to known_hosts (the explicit act of trusting it)."""
        keys = self._current()
        name = known_hosts_name(address, port)
        with self._lock:
            if replace and name in keys:
                del keys[name]
            keys.add(name, key.get_name(), key)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Paramiko writes with the process's umask (0644 here), and RECON's own check of
            # its instance files then calls the file insecure: made 0600, and kept so.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            keys.save(str(self.path))
            os.chmod(self.path, 0o600)
            self._mtime = None
