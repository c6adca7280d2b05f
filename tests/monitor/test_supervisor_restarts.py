"""A supervisor whose loop raises something unexpected (a bug, not a host failure) is
restarted with a back-off and says so: the host goes on being read."""

from __future__ import annotations

import logging
import time

from conftest import start_monitor
from helpers import wait_for

from recon.db.extensions import db
from recon.monitor import snapshot, supervisor


def test_an_unexpected_error_in_a_supervisor_is_logged_and_the_host_read_again(
        make_app, target_info, monkeypatch, caplog):
    real = supervisor.fetch_statuses
    raised: list[float] = []

    def buggy(*args, **kwargs):
        if not raised:
            raised.append(time.time())
            raise KeyError("a bug in parsing")
        return real(*args, **kwargs)

    monkeypatch.setattr(supervisor, "fetch_statuses", buggy)
    app = make_app([target_info], monitor=False)
    mon = start_monitor(app, wait=0)
    sup = wait_for(lambda: mon.supervisors.get("demo"), timeout=10)

    def read_after_the_crash() -> bool:
        with app.app_context():
            row = snapshot.read_host("demo")
            seen = row is not None and row.last_seen is not None and raised \
                and row.last_seen > raised[0]
            db.session.remove()
            return bool(seen)

    assert wait_for(read_after_the_crash, timeout=15)
    assert sup.crashes == 1 and sup._thread.is_alive()
    failed = [r for r in caplog.records
              if r.levelno == logging.ERROR and "supervisor of demo failed" in r.getMessage()]
    assert len(failed) == 1 and "a bug in parsing" in (failed[0].exc_text or "")
