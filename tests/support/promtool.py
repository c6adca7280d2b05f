"""Prometheus's promtool (Debian's package prometheus, which `make test` installs as root):
``run(*args)`` runs it; ``needs_promtool`` skips a test where it is missing and cannot be
installed."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and os.geteuid() != 0,
    reason="promtool is missing (Debian package prometheus; `make test` installs it as root)")


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    assert PROMTOOL, "promtool is missing: as root, `make test` installs Debian's prometheus"
    return subprocess.run([PROMTOOL, *args], input=stdin, capture_output=True, timeout=60)
