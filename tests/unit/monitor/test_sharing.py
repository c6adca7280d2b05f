"""Hosts spread over the monitoring processes (recon.monitor.sharing): every host has one
member, the shares are even, a member that joins or leaves moves only its own share, and the
leases keep two processes from watching one host. No host needed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from pg_cluster import app_database_uri

from recon import create_app
from recon.monitor import sharing

HOSTS = [f"h{i:04d}" for i in range(1000)]


def test_every_host_goes_to_one_member_and_the_shares_are_even():
    owners = sharing.assign(HOSTS, ["a:1", "b:2"])
    assert set(owners) == set(HOSTS)
    shares = Counter(owners.values())
    assert set(shares) == {"a:1", "b:2"}
    assert all(400 < n < 600 for n in shares.values()), shares
    assert sharing.assign(HOSTS, []) == {}


def test_a_member_joining_or_leaving_moves_only_its_own_share():
    two = sharing.assign(HOSTS, ["a:1", "b:2"])
    three = sharing.assign(HOSTS, ["a:1", "b:2", "c:3"])
    moved = [h for h in HOSTS if two[h] != three[h]]
    assert all(three[h] == "c:3" for h in moved)  # only to the newcomer
    assert 250 < len(moved) < 420
    back = sharing.assign(HOSTS, ["b:2", "a:1"])  # c left; order does not matter
    assert back == two


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    config = tmp_path / "recon.toml"
    config.write_text("")
    return create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                       "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})


def test_a_lease_held_by_a_live_member_is_not_taken_until_given_up_or_lapsed(app):
    with app.app_context():
        assert sharing.sync_leases("a", ["h1", "h2"], {}, {}, now=100)[0] == {"h1", "h2"}
        # b wants h2 too (it just joined): a still holds it
        assert sharing.sync_leases("b", ["h2", "h3"], {}, {}, now=101)[0] == {"h3"}
        # a gives h2 up at its next renewal; b claims it at its own
        assert sharing.sync_leases("a", ["h1"], {}, {}, now=102)[0] == {"h1"}
        assert sharing.sync_leases("b", ["h2", "h3"], {}, {}, now=103)[0] == {"h2", "h3"}
        # a dies: its h1 is b's once the lease lapsed, not before
        assert sharing.sync_leases("b", ["h1", "h2", "h3"], {}, {}, now=105)[0] == {"h2", "h3"}
        later = 102 + sharing.LEASE_SECONDS + 0.1
        assert sharing.sync_leases("b", ["h1", "h2", "h3"], {}, {}, now=later)[0] == {
            "h1", "h2", "h3"}


def test_a_failing_supervisor_or_a_lapsed_lease_is_not_watched(app):
    with app.app_context():
        sharing.sync_leases("a", ["h1", "h2"], {"h2": ("failing", "it crashed")}, {"h2": 3},
                            now=100)
        states = sharing.watch_states(["h1", "h2", "h3"], now=101)
        assert states["h1"].watched and states["h1"].owner == "a"
        assert not states["h2"].watched and states["h2"].reason == "it crashed"
        assert not states["h3"].watched and "no RECON process" in states["h3"].reason
        lapsed = sharing.watch_states(["h1"], now=111)  # renewed at 100
        assert not lapsed["h1"].watched and "stopped renewing 11 s ago" in lapsed["h1"].reason


def test_members_live_while_they_renew(app):
    with app.app_context():
        assert sharing.heartbeat("a", 0, now=100) == ["a"]
        assert sorted(sharing.heartbeat("b", 0, now=101)) == ["a", "b"]
        assert sharing.heartbeat("b", 0, now=100 + sharing.MEMBER_SECONDS + 1) == ["b"]
        sharing.release_all("b")
        assert sharing.heartbeat("c", 0, now=120) == ["c"]
