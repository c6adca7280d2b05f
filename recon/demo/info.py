"""What a client needs to reach one demo host: address, keys, tool paths, managed units."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TargetInfo:
    """Everything a client needs to reach and drive one demo host.

    ``root`` is the host's folder of generated files on this machine (keys, configs).
    """

    name: str
    address: str
    port: int
    user: str
    key_path: Path
    known_hosts_path: Path
    host_key_line: str
    systemctl: str
    journalctl: str
    sudo: str
    units: tuple[str, ...]
    root: Path
    # A second login with no sudo rules, for browser terminals (RECON's terminal_user).
    terminal_user: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly dict (paths as strings, units as a list)."""
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                for k, v in d.items()}
