"""The request body limit (issue 12): a body over settings.max_request_bytes is a JSON 413
with a hint, and changes nothing."""

from __future__ import annotations

from conftest import client_for

PASSWORD = "correct horse battery"


def test_a_body_over_the_limit_is_a_json_413(make_app, target_info):
    app = make_app([target_info])
    admin = client_for(app)
    big = {"username": "x", "password": "p" * (1024 * 1024 + 10), "role": "viewer"}
    resp = admin.post("/api/users", json=big)
    assert resp.status_code == 413
    body = resp.get_json()
    assert body["error"] == "request_entity_too_large" and body["hint"] and body["message"]
    assert client_for(app).get("/api/users").get_json()["users"] == []
    small = admin.post("/api/users", json={"username": "ok", "password": PASSWORD,
                                           "role": "viewer"})
    assert small.status_code == 201


def test_the_body_limit_is_a_setting(monkeypatch, make_app, target_info):
    monkeypatch.setenv("RECON_MAX_REQUEST_BYTES", "2000")
    app = make_app([target_info])
    resp = client_for(app).post("/api/users", json={"username": "x", "password": "p" * 3000,
                                                    "role": "viewer"})
    assert resp.status_code == 413
