"""``GET /api/events`` with a resume id it cannot use (issue 24): a number SQLite cannot hold
or a non-ASCII "digit" is a 400 JSON error naming the parameter, not a 500, and holds no
stream slot; an id beyond the newest event (a database replaced since) starts over with a
snapshot instead of waiting for ids that will never come."""

from __future__ import annotations

import pytest

from recon.web import slots


@pytest.mark.parametrize("where, value", [
    ("header", "99999999999999999999"),
    ("header", str(2**63)),
    ("header", "\u00b2"),  # "²": str.isdigit() says yes, int() says no
    ("query", "99999999999999999999"),
])
def test_an_unusable_resume_id_is_a_400_and_changes_nothing(app, client, where, value):
    if where == "header":
        resp = client.get("/api/events", headers={"Last-Event-ID": value})
    else:
        resp = client.get("/api/events", query_string={"after": value})
    assert resp.status_code == 400, resp.data[:300]
    body = resp.get_json()
    assert body["error"] == "invalid_parameter" and body["hint"] and body["message"]
    assert body["parameter"] == ("Last-Event-ID" if where == "header" else "after")
    with app.app_context():
        assert slots.held() == 0  # refused before it took a stream slot


def test_an_id_beyond_the_newest_event_starts_over_with_a_snapshot(client):
    resp = client.get("/api/events", headers={"Last-Event-ID": str(2**63 - 1)},
                      buffered=False)
    try:
        assert resp.status_code == 200
        first = next(resp.response).decode()
    finally:
        resp.close()
    assert "event: snapshot" in first
