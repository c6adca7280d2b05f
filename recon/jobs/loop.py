"""One background task: a named thread that runs a function every N seconds in an app
context. A pass that raises is logged with its traceback and the loop goes on at the next
interval -- a failing task never dies silently, and never takes another task with it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask

from recon.db.extensions import db

log = logging.getLogger("recon.jobs")


class Every:
    """Run ``task()`` at once, then every ``interval()`` seconds (read before each wait, so a
    setting can change it), until :meth:`stop`."""

    def __init__(self, app: Flask, name: str, task: Callable[[], object],
                 interval: Callable[[], float]):
        self.app, self.name, self.task, self.interval = app, name, task, interval
        self.failures = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"recon-{name}", daemon=True)

    def start(self) -> Every:
        self.thread.start()
        return self

    def run_once(self) -> None:
        """One pass in its own app context; an error is logged and counted, not raised."""
        try:
            with self.app.app_context():
                self.task()
                db.session.remove()
        except Exception:
            self.failures += 1
            log.exception("background task %s failed (%d so far); it runs again in %gs",
                          self.name, self.failures, self._interval())

    def _interval(self) -> float:
        try:
            with self.app.app_context():
                return max(0.05, float(self.interval()))
        except Exception:
            return 5.0  # a broken setting read must not end the loop either

    def _loop(self) -> None:
        while True:
            self.run_once()
            if self.stop_event.wait(self._interval()):
                return

    def stop(self, timeout: float = 5) -> None:
        """Stop the loop and wait for a running pass to end."""
        self.stop_event.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=timeout)
