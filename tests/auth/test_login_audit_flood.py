"""Throttled logins cannot flood the audit trail (issue 24, item 6): past the first few of a
source in a window, they are folded into one audit row per source and window that counts
them, updated in place."""

from __future__ import annotations

import re

import pytest
from conftest import client_for

from recon.auth.accounts import create_user

PASSWORD = "correct horse battery"
ATTEMPTS = 200


@pytest.fixture
def boss(app):
    with app.app_context():
        create_user("boss", PASSWORD, "admin")
    return "boss"


def attack(app, addr: str, attempts: int, username: str = "boss") -> list[int]:
    """``attempts`` wrong guesses from ``addr``, all with one login form (one CSRF cookie)."""
    c = app.test_client()
    env = {"REMOTE_ADDR": addr}
    page = c.get("/login", environ_base=env).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return [c.post("/login", data={"username": username, "password": f"wrong-{i}-guess",
                                   "csrf_token": csrf}, environ_base=env).status_code
            for i in range(attempts)]


def login_rows(app, addr: str) -> list[dict]:
    entries = client_for(app).get("/api/audit?action=login&limit=1000").get_json()["entries"]
    return [e for e in entries if e["remote_addr"] == addr]


def summarized(rows: list[dict]) -> int:
    """The attempts the aggregate rows count (their output starts with the number)."""
    return sum(int(re.match(r"(\d+) ", e["output"]).group(1))
               for e in rows if e["error"] == "throttled_aggregated")


def test_many_throttled_attempts_leave_a_bounded_number_of_rows_that_count_them(app, boss):
    codes = attack(app, "192.0.2.77", ATTEMPTS)
    throttled, evaluated = codes.count(429), codes.count(401)
    # 5 pass freely; one more each time a delay (2 s, 4 s, ...) ran out during the attack.
    assert 5 <= evaluated <= 8 and throttled == ATTEMPTS - evaluated
    rows = login_rows(app, "192.0.2.77")
    assert len(rows) <= evaluated + 10 + 1, len(rows)  # wrong ones, 10 one by one, aggregate
    singles = [e for e in rows if e["error"] == "throttled"]
    aggregate = [e for e in rows if e["error"] == "throttled_aggregated"]
    assert len(aggregate) == 1 and not aggregate[0]["success"]
    assert len(singles) + summarized(rows) == throttled
    assert "boss" in aggregate[0]["output"] and aggregate[0]["remote_addr"] == "192.0.2.77"
    # More attempts update the same row.
    more = attack(app, "192.0.2.77", 50).count(429)
    rows = login_rows(app, "192.0.2.77")
    assert len([e for e in rows if e["error"] == "throttled_aggregated"]) == 1
    assert len(singles) + summarized(rows) == throttled + more


def test_each_source_gets_its_own_aggregate(app, boss):
    throttled = {"192.0.2.81": attack(app, "192.0.2.81", 40).count(429),
                 "192.0.2.82": attack(app, "192.0.2.82", 40, username="nobody").count(429)}
    for addr, refused in throttled.items():
        rows = login_rows(app, addr)
        assert len([e for e in rows if e["error"] == "throttled_aggregated"]) == 1
        assert len([e for e in rows if e["error"] == "throttled"]) + summarized(rows) == refused
