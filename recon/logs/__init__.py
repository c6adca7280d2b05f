"""Logs blueprint: filtered journal reads, plain-text downloads and live follow (SSE).

``bp`` is loaded on first access so that :mod:`recon.logs.query` (argv and sudoers rule,
used by the demo target) stays importable without Flask.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bp"]


def __getattr__(name: str) -> Any:
    if name == "bp":
        from .routes import bp
        return bp
    raise AttributeError(name)
