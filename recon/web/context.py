"""The per-process objects every blueprint shares: config and executor."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, current_app

from recon.config import ReconConfig, ServiceConfig
from recon.core.errors import NotFound
from recon.ssh import Executor, HostKeyStore


@dataclass
class Runtime:
    config: ReconConfig
    executor: Executor

    @classmethod
    def build(cls, app: Flask, config: ReconConfig) -> Runtime:
        """Objects only; nothing connects until the first command."""
        keys = HostKeyStore(app.config["RECON_KNOWN_HOSTS"])
        executor = Executor(keys)
        return cls(config=config, executor=executor)


def runtime(app: Flask | None = None) -> Runtime:
    """The runtime of ``app`` (default: the current app): the one way to RECON's config and
    executor, in a request or a background thread alike."""
    return (app or current_app).extensions["recon"]


def get_service(slug: str) -> ServiceConfig:
    """The configured service, or a 404 ApiError naming the slug."""
    service = runtime().config.services.get(slug)
    if service is None:
        raise NotFound("service", f"no service with slug {slug!r}",
                       "GET /api/services lists the configured services.")
    return service


_per_app_lock = threading.Lock()
T = TypeVar("T")


def per_app(key: str, make: Callable[[], T], app: Flask | None = None) -> T:
    """The object kept in ``app.extensions[key]`` (default: the current app), made by
    ``make()`` on first use -- once, even when two threads ask at the same moment."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(key)
    if found is None:
        with _per_app_lock:
            found = app.extensions.setdefault(key, make())
    return found
