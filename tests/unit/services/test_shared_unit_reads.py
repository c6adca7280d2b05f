"""One read of a unit for every concurrent caller, kept a few seconds and dropped when the
service's freshness changes (recon.services.unit_reads.SharedReads), on a fake clock."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from recon.services.unit_reads import SharedReads
from recon.web.ratelimit import TooManyReads


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_callers_share_one_read():
    reads, gate = [], threading.Event()
    shared: SharedReads[int] = SharedReads(keep=3)

    def read() -> int:
        reads.append(1)
        gate.wait(5)
        return 42

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(shared.get, "web", (1,), read) for _ in range(16)]
        gate.set()
        assert [f.result() for f in futures] == [42] * 16
    assert len(reads) == 1


def test_a_kept_read_ages_out_and_a_new_freshness_reads_again():
    clock, reads = Clock(), []
    shared: SharedReads[int] = SharedReads(keep=3, clock=clock)

    def read() -> int:
        reads.append(clock.now)
        return len(reads)

    assert shared.get("web", (1,), read) == 1
    clock.now = 2.9
    assert shared.get("web", (1,), read) == 1
    assert shared.get("web", (2,), read) == 2  # an action since: read again at once
    assert shared.get("worker", (2,), read) == 3  # each unit its own
    clock.now = 5.95
    assert shared.get("web", (2,), read) == 4  # 3 s after the read of (2,)
    assert len(reads) == 4


def test_errors_are_shared_but_not_kept():
    shared: SharedReads[int] = SharedReads(keep=3)
    with pytest.raises(OSError):
        shared.get("web", (1,), lambda: (_ for _ in ()).throw(OSError("host down")))
    assert shared.get("web", (1,), lambda: 7) == 7


def test_a_leader_refused_by_its_own_bound_leaves_followers_to_read_themselves():
    started, release = threading.Event(), threading.Event()
    shared: SharedReads[str] = SharedReads(keep=3)

    def refused() -> str:
        started.set()
        release.wait(5)
        raise TooManyReads("vic made 30 reads", "Retry in 1 s", retry_after=1)

    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(shared.get, "web", (1,), refused)
        assert started.wait(5)
        follower = pool.submit(shared.get, "web", (1,), lambda: "olga's read")
        time.sleep(0.2)  # the follower waits on the leader's read by now
        release.set()
        with pytest.raises(TooManyReads):
            leader.result()
        assert follower.result() == "olga's read"
