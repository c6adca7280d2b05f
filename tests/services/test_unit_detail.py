"""The unit detail view's API against the real host: the unit file, its dependencies, every
property, the runbook's status text and a service's timer, all read without sudo."""

from __future__ import annotations

import dataclasses

from conftest import client_for

from recon.web.context import runtime


def test_unit_detail_reads_file_dependencies_properties_and_status(client, target, target_info):
    before = len(target.command_log())
    body = client.get("/api/services/demo-web/unit").get_json()
    assert "ExecStart=" in body["file"]
    assert "# /usr/local/lib/systemd/system/demo-web.service" in body["file"]
    assert "multi-user.target" in body["dependencies"]["WantedBy"]
    assert "sysinit.target" in body["dependencies"]["After"]
    props = body["properties"]
    assert props["Id"] == "demo-web.service" and props["MainPID"] == str(
        target.main_pid("demo-web.service"))
    assert "demo-web.service" in body["status_text"] and "active (running)" in body["status_text"]
    assert body["status_command"] == "systemctl status demo-web.service"
    assert body["timer"] is None
    sent = target.command_log()[before:]
    assert sent and not [c for c in sent if "sudo" in c], sent  # read-only, unprivileged
    assert any(f"{target_info.systemctl} cat --no-pager demo-web.service" in c for c in sent)


def test_a_services_timer_shows_its_next_and_last_run(make_app, target_info):
    info = dataclasses.replace(target_info, units=(*target_info.units, "demo-backup.service"))
    app = make_app([info])
    assert runtime(app).config.services["demo-backup"].timer == "demo-backup.timer"
    timer = client_for(app, "viewer").get("/api/services/demo-backup/unit").get_json()["timer"]
    assert timer["unit"] == "demo-backup.timer" and timer["state"] == "active"
    assert timer["next"] and timer["next"].endswith("Z")
    assert "OnCalendar" in timer["calendar"]
    # the calendar in words (systemd shows `minutely` as *-*-* *:*:00), and the .timer file
    assert timer["schedule"] == ["every minute"]
    body = client_for(app, "viewer").get("/api/services/demo-backup/unit").get_json()
    assert "[Timer]" in body["timer_file"] and "OnCalendar=minutely" in body["timer_file"]
    assert body["timer_file"].startswith("# /usr/local/lib/systemd/system/demo-backup.timer")


def test_a_missing_unit_answers_with_the_reason_not_an_error(make_app, target_info):
    info = dataclasses.replace(target_info, units=(*target_info.units, "demo-nope.service"))
    body = client_for(make_app([info]), "viewer").get("/api/services/demo-nope/unit").get_json()
    assert body["file"] is None and "demo-nope.service" in body["file_error"]
    assert body["properties"]["LoadState"] == "not-found"


def test_unknown_service_detail_is_404(client):
    r = client.get("/api/services/nope/unit")
    assert r.status_code == 404 and r.get_json()["error"] == "unknown_service"
