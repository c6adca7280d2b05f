"""Tags from the config filter the fleet; /api/changes lists what changed lately (recorded by
the monitor on the real host)."""

from __future__ import annotations

from helpers import wait_for


def test_services_carry_their_tags(client):
    services = {s["slug"]: s for s in client.get("/api/services").get_json()["services"]}
    assert services["demo-web"]["tags"] == ["web", "prod"]
    assert services["demo-stuck"]["tags"] == []


def test_changes_lists_a_real_stop_and_start_with_who_did_it(client, target):
    assert client.post("/api/services/demo-cron/stop").get_json()["success"]
    assert client.post("/api/services/demo-cron/start").get_json()["success"]
    events = wait_for(lambda: [e for e in client.get("/api/changes").get_json()["events"]
                               if e["service"] == "demo-cron" and e["cause"] == "action"])
    assert [e["action"] for e in events[:2]] == ["start", "stop"]  # newest first
    assert events[0]["actor"] == "token:test-admin" and events[1]["to"] == "inactive"


def test_changes_validates_its_window(client):
    r = client.get("/api/changes?hours=999")
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_parameter"
    assert r.get_json()["hint"]


def test_a_host_is_listed_when_its_state_changes_not_when_its_signals_attach(client, target):
    """The first read finds the host up while polled; its unit signals attach a moment later.
    That is news for the live page (an SSE host event), not a change of the host's state."""
    hosts = wait_for(lambda: [h for h in client.get("/api/services").get_json()["hosts"]
                              if h["events"] == "dbus"])
    assert hosts
    changes = [e for e in client.get("/api/changes").get_json()["events"]
               if e["kind"] == "host"]
    assert [(e["from"], e["to"]) for e in changes] == [(None, "up")]
