"""History strips (recon.monitor.strips): a bucket shows the worst state it held, a host's
downtime overrides its services, availability counts only known time; and the batched
endpoint computes every service's strip from the event log in one call."""

from __future__ import annotations

import json
import time

import pytest

from recon.monitor.strips import availability, overlay, strip, unit_code

H = 3600.0


def test_a_bucket_shows_the_worst_state_it_held():
    # 4 buckets of 1 h: running, a 1-minute failure in the second hour, running again.
    points = [(0.0, "r"), (1.5 * H, "f"), (1.5 * H + 60, "r")]
    assert strip(points, 0.0, 4 * H, 4) == "rfrr"


def test_no_data_before_the_first_record_and_the_last_state_lasts_until_now():
    points = [(2 * H, "s")]
    assert strip(points, 0.0, 4 * H, 4) == "--ss"


def test_a_host_down_makes_its_services_unreachable_and_they_come_back_as_they_were():
    unit = [(0.0, "r")]
    host = [(0.0, "r"), (H, "u"), (2 * H, "r")]
    assert overlay(unit, host) == [(0.0, "r"), (H, "u"), (2 * H, "r")]
    assert strip(overlay(unit, host), 0.0, 3 * H, 3) == "rur"


def test_availability_counts_only_the_known_time_and_idle_by_design_is_available():
    assert availability([(H, "r"), (2 * H, "f")], 0.0, 3 * H) == 0.5
    assert availability([(0.0, "i")], 0.0, H) == 1.0
    assert availability([], 0.0, H) is None


@pytest.mark.parametrize(("state", "crash", "idle_ok", "code"), [
    ("active", False, False, "r"), ("active", True, False, "l"), ("failed", False, False, "f"),
    ("inactive", False, False, "s"), ("inactive", False, True, "i"),
    ("activating", False, False, "c"), ("unknown", False, False, "-"),
])
def test_unit_events_map_to_codes(state, crash, idle_ok, code):
    assert unit_code(state, crash, idle_ok) == code


def test_the_endpoint_draws_every_service_from_the_recorded_events(tmp_path):
    from large_fleet import build_fleet_app, publish_fleet

    from recon.auth.accounts import create_token
    from recon.db.extensions import db
    from recon.monitor.models import MonitorEvent
    from recon.onboarding.steps import keygen

    keygen(tmp_path / "k")
    app = build_fleet_app(tmp_path, tmp_path / "k", 2, 2)
    publish_fleet(app, {"node0000": {}, "node0001": {"web.service": "failed"}})
    now = time.time()
    with app.app_context():
        token = create_token("viewer", "viewer")[1]
        # node0000-api failed an hour and a half ago for ten minutes.
        for at, kind, slug, state in ((now - 30 * H, "unit", "node0000-api", "active"),
                                      (now - 1.5 * H, "unit", "node0000-api", "failed"),
                                      (now - 1.5 * H + 600, "unit", "node0000-api", "active")):
            db.session.add(MonitorEvent(at=at, kind=kind, host="node0000", service=slug,
                                        to_state=state, cause="observed",
                                        payload=json.dumps({"state": state})))
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    body = client.get("/api/history/strips?hours=24&buckets=24").get_json()
    api = body["services"]["node0000-api"]
    assert len(api["strip"]) == 24 and api["strip"][-2] == "f" and api["strip"][-1] == "r"
    assert 0.99 < api["availability"]["24h"] < 1.0
    assert body["services"]["node0001-web"]["strip"][-1] == "f"
    assert set(body["services"]) == {"node0000-api", "node0000-web", "node0001-api",
                                     "node0001-web"}
    one = client.get("/api/history/strips?service=node0000-api").get_json()
    assert list(one["services"]) == ["node0000-api"] and list(one["hosts"]) == ["node0000"]
    assert client.get("/api/history/strips?buckets=5000").status_code == 400
    assert client.get("/api/history/strips?service=nope").status_code == 404
