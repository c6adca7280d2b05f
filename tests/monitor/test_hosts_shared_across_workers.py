"""The monitor on every core: two gunicorn workers each watch part of a 20-host fleet; when
one is killed with -9 the other watches all of it within 15 s, the replacement worker takes
its share back, and a unit that failed during the takeover is told exactly once."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections import Counter
from dataclasses import replace

import sqlalchemy as sa
from conftest import build_app
from helpers import Gunicorn, wait_for
from notify_receivers import WebhookReceiver, hook_toml

from recon.db.extensions import db
from recon.monitor.models import HostLease, HostState, MonitorLease

HOSTS = 20
WORKER = "demo-worker.service"


def _owner_pid(owner: str) -> int:
    return int(owner.split(":")[1])


def _leases(app) -> dict[str, HostLease]:
    with app.app_context():
        rows = {r.host: r for r in db.session.scalars(sa.select(HostLease))}
        db.session.remove()
    return rows


def _watched_by(app) -> dict[str, int]:
    """host -> pid of the process that holds a live lease on it and is watching it."""
    now = time.time()
    return {h: _owner_pid(r.owner) for h, r in _leases(app).items()
            if r.expires_at > now and r.state == "watching"}


def _read_since(app, at: float) -> set[str]:
    with app.app_context():
        read = {r.name for r in db.session.scalars(sa.select(HostState)) if r.checked_at > at}
        db.session.remove()
    return read


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_workers_share_the_hosts_and_the_survivor_takes_all_within_15_s(
        tmp_path, target_info, target):
    hook = WebhookReceiver()
    infos = []
    for i in range(HOSTS):  # a copy of the key each: its own connection, as a host has
        key = tmp_path / f"key-{i}"
        shutil.copy(target_info.key_path, key)
        infos.append(replace(target_info, name=f"h{i:02d}", key_path=key))
    app = build_app(tmp_path, infos, extra_toml=hook_toml("ops", hook.url, for_seconds=0))
    names = {i.name for i in infos}
    try:
        with Gunicorn(app, workers=2, error_log=str(tmp_path / "server.log")):
            # Both workers watch a share (rendezvous hashing: neither gets all 20).
            assert wait_for(lambda: set(_watched_by(app)) == names
                            and len(set(_watched_by(app).values())) == 2, timeout=30), (
                _leases(app), (tmp_path / "server.log").read_text()[-3000:])
            shares = Counter(_watched_by(app).values())
            assert all(n < HOSTS for n in shares.values()), shares

            def fleet_lease():  # taken at the renewal after the hosts' (a moment later)
                with app.app_context():
                    lease = db.session.scalars(sa.select(MonitorLease)).first()
                    db.session.remove()
                return lease
            leader = _owner_pid(wait_for(fleet_lease, timeout=10).owner)
            os.kill(leader, signal.SIGKILL)  # the one that also sends the notifications
            killed_at = time.time()
            target.run(["kill", "-9", str(target.main_pid(WORKER))])  # 20 services fail

            def all_watched_again() -> bool:
                by = _watched_by(app)
                if set(by) != names or leader in by.values():
                    return False
                return _read_since(app, killed_at) == names

            assert wait_for(all_watched_again, timeout=15, interval=0.2), (
                leader, {h: (r.owner, round(r.expires_at - time.time(), 1), r.state, r.note)
                         for h, r in _leases(app).items()}, _read_since(app, killed_at))
            taken = time.time() - killed_at
            # gunicorn replaced the dead worker: the new one takes its share back
            assert wait_for(lambda: len(set(_watched_by(app).values())) == 2
                            and all(_alive(p) for p in _watched_by(app).values()),
                            timeout=30), Counter(_watched_by(app).values())

            # each service's failure is told once, by whichever process took the lease over
            want = {f"{h}-demo-worker" for h in names}
            assert wait_for(lambda: {b["service"] for b in hook.bodies("unit_failed")} == want,
                            timeout=30), sorted(b["service"] for b in hook.bodies())
            time.sleep(3)  # a second sender would have sent by now
            told = Counter(b["service"] for b in hook.bodies("unit_failed"))
            assert set(told.values()) == {1}, told
            print(f"all {HOSTS} hosts watched again {taken:.1f} s after the kill")
    finally:
        target.systemctl("start", WORKER, check=False)
        hook.close()
