"""Fleet status: one batched ``systemctl show`` per host, hosts in parallel, shared results.

Identical reads that arrive together share one remote call, and results are kept for a short
time, so many open browser tabs do not multiply SSH traffic. An action on a service drops the
cached status of its host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .config import ReconConfig, ServiceConfig
from .ssh import CommandFailed, Executor, RemoteError
from .systemd import fetch_statuses

HostStatus = dict[str, dict[str, Any]]
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="recon-status")


class StatusCache:
    """Single-flight, short-lived cache of ``fetch_statuses`` results keyed by host+units."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, tuple[str, ...]], tuple[float, Future]] = {}

    def get(self, host: str, units: tuple[str, ...],
            fetch: Callable[[], HostStatus]) -> Future:
        """A future for the status, started now unless a fresh or in-flight one exists."""
        key = (host, units)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry and (not entry[1].done() or now - entry[0] < self.ttl):
                return entry[1]
            future: Future = Future()
            self._entries[key] = (now, future)
        try:
            future.set_result(fetch())
        except BaseException as exc:  # shared with every waiter, never cached afterwards
            future.set_exception(exc)
            with self._lock:
                if self._entries.get(key, (0, None))[1] is future:
                    del self._entries[key]
        else:
            with self._lock:
                if self._entries.get(key, (0, None))[1] is future:
                    self._entries[key] = (time.monotonic(), future)
        return future

    def invalidate(self, host: str) -> None:
        """Forget everything cached for one host (after an action there)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == host]:
                del self._entries[key]


def _unreachable(service: ServiceConfig, exc: RemoteError) -> dict[str, Any]:
    """The status entry of a service whose host could not answer (state ``unknown`` when the
    host answered but the status command itself failed)."""
    state = "unknown" if isinstance(exc, CommandFailed) else "unreachable"
    return {"unit": service.unit, "active": False, "state": state, **exc.to_dict()}


class StatusReader:
    """Reads service status through the executor and the cache."""

    def __init__(self, config: ReconConfig, executor: Executor):
        self.config = config
        self.executor = executor
        self.cache = StatusCache(config.settings.status_cache_seconds)

    def host_status(self, host_name: str, units: tuple[str, ...]) -> HostStatus:
        """Status of ``units`` on one host; raises RemoteError if the host fails."""
        host = self.config.hosts[host_name]
        if self.cache.ttl <= 0:
            return fetch_statuses(self.executor, host, units)
        future = self.cache.get(host_name, units,
                                lambda: fetch_statuses(self.executor, host, units))
        # The fetch has its own deadlines; this bound only guards against a lost future.
        return future.result(timeout=host.connect_timeout + host.command_timeout + 10)

    def service_status(self, service: ServiceConfig) -> dict[str, Any]:
        """One service's status, or an ``unreachable`` entry carrying the error."""
        try:
            return self.host_status(service.host, (service.unit,))[service.unit]
        except RemoteError as exc:
            return _unreachable(service, exc)

    def fleet_status(self) -> dict[str, dict[str, Any]]:
        """Every service's status by slug; hosts are asked in parallel, once each."""
        by_host: dict[str, list[ServiceConfig]] = {}
        for svc in self.config.services.values():
            by_host.setdefault(svc.host, []).append(svc)
        futures = {
            name: _POOL.submit(self.host_status, name, tuple(s.unit for s in svcs))
            for name, svcs in by_host.items()
        }
        result: dict[str, dict[str, Any]] = {}
        for name, svcs in by_host.items():
            try:
                statuses = futures[name].result()
            except RemoteError as exc:
                for svc in svcs:
                    result[svc.slug] = _unreachable(svc, exc)
                continue
            for svc in svcs:
                result[svc.slug] = statuses[svc.unit]
        return result
