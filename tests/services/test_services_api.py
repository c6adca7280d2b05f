"""The services API against the real target: the runbook's endpoints and its curl checks."""

from __future__ import annotations

from conftest import client_for
from helpers import wait_for

from recon.audit.models import AuditEntry


def test_fleet_lists_every_demo_service_running(client, target_info):
    body = client.get("/api/services").get_json()
    slugs = {s["slug"]: s for s in body["services"]}
    assert {"demo-web", "demo-worker", "demo-cron", "demo-stuck"} <= set(slugs)
    web = slugs["demo-web"]
    assert web["active"] is True and web["state"] == "active"
    assert web["load_state"] == "loaded" and web["host"] == "demo"
    assert isinstance(web["main_pid"], int)
    [host] = body["hosts"]
    assert (host["name"], host["reachable"], host["state"]) == ("demo", True, "up")
    assert host["last_seen"] and "error" not in host


def test_status_of_one_service_reports_active_like_the_runbook(client):
    resp = client.get("/api/services/demo-web/status")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["active"] is True and body["service"] == "Demo Web"
    assert body["sub_state"] == "running"


def test_stop_really_stops_the_process_and_start_brings_it_back(client, target):
    pid = client.get("/api/services/demo-worker/status").get_json()["main_pid"]
    assert pid and target.pid_alive(pid)  # a pid of the host's own PID namespace
    resp = client.post("/api/services/demo-worker/stop")
    body = resp.get_json()
    assert resp.status_code == 200 and body["success"] is True, body
    assert body["status"]["active"] is False
    assert set(body) >= {"action", "exit_code", "stdout", "stderr", "duration_ms"}
    assert wait_for(lambda: not target.pid_alive(pid)), f"pid {pid} still running after stop"
    assert client.get("/api/services/demo-worker/status").get_json()["state"] == "inactive"

    resp = client.post("/api/services/demo-worker/start")
    assert resp.get_json()["success"] is True
    status = client.get("/api/services/demo-worker/status").get_json()
    assert status["active"] is True and status["main_pid"] and status["main_pid"] != pid
    assert target.pid_alive(status["main_pid"])


def test_restart_changes_the_main_pid(client):
    before = client.get("/api/services/demo-web/status").get_json()["main_pid"]
    body = client.post("/api/services/demo-web/restart").get_json()
    assert body["success"] is True and body["exit_code"] == 0
    after = wait_for(lambda: client.get("/api/services/demo-web/status").get_json()["main_pid"])
    assert after and after != before


def test_unknown_slug_is_404_with_a_stable_code(client):
    resp = client.post("/api/services/nope/restart")
    assert resp.status_code == 404
    body = resp.get_json()
    assert body["error"] == "unknown_service" and body["hint"]
    assert client.get("/api/services/nope/status").status_code == 404


def test_action_not_allowed_is_403_audited_and_runs_nothing(client, app, target):
    before = len(target.command_log())
    resp = client.post("/api/services/demo-cron/reload")
    assert resp.status_code == 403
    assert resp.get_json()["error"] == "action_not_allowed"
    assert not [c for c in target.command_log()[before:] if " reload " in c]
    with app.app_context():
        entry = AuditEntry.query.order_by(AuditEntry.id.desc()).first()
        assert (entry.action, entry.service, entry.success) == ("reload", "demo-cron", False)


def test_unknown_action_is_400(client):
    resp = client.post("/api/services/demo-web/explode")
    assert resp.status_code == 400 and resp.get_json()["error"] == "unknown_action"


def test_get_on_an_action_is_405_json(client):
    resp = client.get("/api/services/demo-web/restart")
    assert resp.status_code == 405 and resp.get_json()["error"] == "method_not_allowed"


def test_every_action_is_audited_before_the_response(client):
    client.post("/api/services/demo-web/restart")
    entries = client.get("/api/audit?service=demo-web&limit=5").get_json()["entries"]
    newest = entries[0]
    assert newest["action"] == "restart" and newest["success"] is True
    assert newest["exit_code"] == 0 and newest["host"] == "demo"
    assert newest["actor"] == "token:test-admin"


def test_runbook_post_logs_returns_recent_journal_lines(client):
    resp = client.post("/api/services/demo-web/logs")
    body = resp.get_json()
    assert resp.status_code == 200 and body["success"] is True
    assert isinstance(body["lines"], list) and len(body["lines"]) <= 60


def test_status_reads_come_from_the_snapshot_and_send_nothing(make_app, target_info, target):
    app = make_app([target_info])
    app.extensions["recon.monitor"].stop()  # only the requests below may reach the host now
    client = client_for(app)
    before = len(target.command_log())
    for _ in range(5):
        assert client.get("/api/services").status_code == 200
        assert client.get("/api/services/demo-web/status").status_code == 200
    assert len(target.command_log()) == before
    client.post("/api/services/demo-web/restart")
    client.get("/api/services")
    # the action itself and the status it left behind, published for every reader
    assert len(target.command_log()) - before == 2
    client.get("/api/services/demo-web/status?fresh=1")
    assert len(target.command_log()) - before == 3


def test_a_fresh_read_answers_before_it_is_published_and_publishes_when_sent(
        make_app, target_info):
    """The SQLite write is off the caller's wait: the answer carries the read, and the
    snapshot gets it once the server has sent the answer (when it closes the response)."""
    from recon.db.extensions import db
    from recon.monitor.models import UnitState

    app = make_app([target_info])
    app.extensions["recon.monitor"].stop()  # only the fresh read may publish now

    def observed() -> float:
        with app.app_context():
            value = db.session.get(UnitState, "demo-web").observed_at
            db.session.commit()
            return value

    before = observed()
    resp = client_for(app).get("/api/services/demo-web/status?fresh=1")
    assert resp.status_code == 200 and resp.get_json()["active"] is True
    assert observed() == before  # answered first
    resp.close()  # what the server does once the answer is out
    assert observed() > before
