"""Rolling actions on real hosts: one host at a time, stop on the first failure (a unit that
does not stay up through its settle included), cancel skips the rest, one audit group; and
every refusal changes nothing."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from conftest import client_for
from helpers import wait_for
from rolling_steps import hold_first_step

from recon.web.context import runtime

WORKER = "demo-worker.service"


@pytest.fixture(autouse=True)
def short_settle(monkeypatch):
    """Runs here settle 0.5 s unless a test says otherwise: the demo units are up within
    milliseconds, so the default 5 s per step would only slow the module down."""
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "0.5")


def _finished(client, run_id: int, timeout: float = 60) -> dict:
    def done():
        body = client.get(f"/api/actions/{run_id}").get_json()
        return body if body["state"] != "running" else None
    body = wait_for(done, timeout=timeout, interval=0.2)
    assert body, f"rolling action {run_id} still running after {timeout} s"
    return body


def _start(client, slugs: list[str], action: str = "restart", **extra) -> dict:
    resp = client.post("/api/actions", json={"action": action, "services": slugs, **extra})
    assert resp.status_code == 202, resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/actions/{resp.get_json()['id']}")
    return resp.get_json()


def test_a_rolling_restart_goes_host_by_host_and_is_audited_as_one_group(make_app, fleet):
    hosts = fleet[:3]
    app = make_app([h.info for h in hosts])
    client = client_for(app, "operator")
    before = [h.main_pid(WORKER) for h in hosts]
    run = _start(client, [f"{h.name}-demo-worker" for h in hosts])
    assert run["state"] == "running" and len(run["steps"]) == 3
    body = _finished(client, run["id"])
    assert body["state"] == "succeeded", body
    steps = body["steps"]
    assert [(s["host"], s["state"]) for s in steps] == [(h.name, "ok") for h in hosts]
    # one host at a time: each step began after the one before had finished
    for earlier, later in zip(steps, steps[1:], strict=False):
        assert earlier["finished_at"] <= later["started_at"]
    after = [h.main_pid(WORKER) for h in hosts]
    assert all(a != b and a > 0 for a, b in zip(after, before, strict=True))
    assert [s["main_pid"] for s in steps] == after  # what the runner saw active again
    # one audit group: the run's own entry and one entry per step, each written before its
    # step was sent (its id precedes the next step's)
    entries = client_for(app, "admin").get(f"/api/audit?group={run['id']}").get_json()["entries"]
    assert sorted(e["action"] for e in entries) == ["restart"] * 3 + ["rolling.restart"]
    assert all(e["success"] is True and e["group_id"] == run["id"] for e in entries)
    assert [e["id"] for e in entries if e["action"] == "restart"][::-1] == [
        s["audit_id"] for s in steps]
    assert body["audit_id"] == [e["id"] for e in entries if e["action"] == "rolling.restart"][0]
    # the history says who caused the restarts
    history = client.get("/api/services/web2-demo-worker/history").get_json()["events"]
    assert any(e["cause"] == "action" and e["audit_id"] == steps[1]["audit_id"]
               for e in history)


def test_a_withdrawn_sudo_rule_on_the_second_host_stops_the_run_there(make_app, fleet):
    hosts = fleet[:3]
    app = make_app([h.info for h in hosts])
    client = client_for(app, "operator")
    before = [h.main_pid(WORKER) for h in hosts]
    hosts[1].set_sudo_rule(WORKER, "restart", False)
    try:
        run = _start(client, [f"{h.name}-demo-worker" for h in hosts])
        body = _finished(client, run["id"])
    finally:
        hosts[1].set_sudo_rule(WORKER, "restart", True)
    assert body["state"] == "failed"
    assert [s["state"] for s in body["steps"]] == ["ok", "failed", "skipped"]
    assert body["steps"][1]["error"] == "sudo_password_required"
    assert body["error"] == "sudo_password_required" and hosts[1].name in body["message"]
    assert hosts[0].main_pid(WORKER) != before[0]
    assert hosts[1].main_pid(WORKER) == before[1]
    assert hosts[2].main_pid(WORKER) == before[2]  # never touched
    entries = client_for(app, "admin").get(f"/api/audit?group={run['id']}").get_json()["entries"]
    outcome = {(e["action"], e["host"]): e["success"] for e in entries}
    assert outcome == {("restart", hosts[0].name): True, ("restart", hosts[1].name): False,
                       ("rolling.restart", None): False}


def test_a_cancel_during_the_first_step_skips_the_rest(make_app, fleet, monkeypatch):
    hosts = fleet[:3]
    app = make_app([h.info for h in hosts])
    client = client_for(app, "operator")
    before = [h.main_pid(WORKER) for h in hosts]
    first_done, release = hold_first_step(monkeypatch)
    run = _start(client, [f"{h.name}-demo-worker" for h in hosts])
    try:
        assert first_done.wait(30)
        resp = client.delete(f"/api/actions/{run['id']}")
        assert resp.status_code == 202 and resp.get_json()["cancel_requested"] is True
    finally:
        release.set()
    body = _finished(client, run["id"])
    assert body["state"] == "cancelled" and body["cancelled_by"] == "token:test-operator"
    assert [s["state"] for s in body["steps"]] == ["ok", "skipped", "skipped"]
    assert hosts[0].main_pid(WORKER) != before[0]
    assert [h.main_pid(WORKER) for h in hosts[1:]] == before[1:]
    assert client.delete(f"/api/actions/{run['id']}").get_json()["error"] == "run_finished"
    actions = [e["action"] for e in client_for(app, "admin").get(
        f"/api/audit?group={run['id']}").get_json()["entries"]]
    assert sorted(actions) == ["restart", "rolling.restart", "rolling.restart.cancel"]


@pytest.mark.parametrize("body,status,code", [
    ({"action": "restart", "services": ["demo-worker"]}, 403, "forbidden"),  # viewer
])
def test_a_viewer_may_not_start_or_cancel_a_rolling_action(app, target, body, status, code):
    viewer = client_for(app, "viewer")
    before = target.main_pid(WORKER)
    resp = viewer.post("/api/actions", json=body)
    assert (resp.status_code, resp.get_json()["error"]) == (status, code)
    assert viewer.delete("/api/actions/1").status_code == 403
    assert viewer.get("/api/actions").get_json()["actions"] == []
    assert target.main_pid(WORKER) == before


@pytest.mark.parametrize("body,status,code", [
    ({"action": "restart", "host": "demo"}, 403, "action_not_allowed"),  # demo-stuck: reload only
    ({"action": "restart", "services": ["demo-worker", "nope"]}, 404, "unknown_service"),
    ({"action": "restart", "tag": "nope"}, 404, "unknown_tag"),
    ({"action": "restart", "host": "nope"}, 404, "unknown_host"),
    ({"action": "restart"}, 400, "invalid_selection"),
    ({"action": "restart", "tag": "web", "host": "demo"}, 400, "invalid_selection"),
    ({"action": "restart", "services": "demo-worker"}, 400, "invalid_parameter"),
    ({"action": "stop", "services": ["demo-worker"]}, 400, "unknown_action"),
    ({"action": "restart; reboot", "services": ["demo-worker"]}, 400, "unknown_action"),
    (["restart"], 400, "invalid_body"),
])
def test_a_bad_rolling_request_changes_nothing_and_says_why(app, target, body, status, code):
    client = client_for(app, "operator")
    before = target.main_pid(WORKER)
    resp = client.post("/api/actions", json=body)
    data = resp.get_json()
    assert (resp.status_code, data["error"]) == (status, code)
    assert data["message"] and data["hint"]
    assert client.get("/api/actions").get_json()["actions"] == []
    assert target.main_pid(WORKER) == before


def test_an_allow_list_refuses_the_whole_run_for_an_operator_it_does_not_name(app, target):
    import dataclasses
    services = runtime(app).config.services
    services["demo-web"] = dataclasses.replace(services["demo-web"],
                                               allow=frozenset({"role:admin"}))
    client = client_for(app, "operator")
    before = target.main_pid(WORKER)
    resp = client.post("/api/actions", json={"action": "restart", "tag": "prod"})
    assert resp.status_code == 403 and resp.get_json()["services"] == ["demo-web"]
    assert target.main_pid(WORKER) == before
    assert client.get("/api/actions").get_json()["actions"] == []


def test_under_gunicorn_every_worker_answers_the_progress_of_a_run(make_app, fleet, tmp_path):
    import http.client
    import json

    from helpers import Gunicorn

    hosts = fleet[:2]
    app = make_app([h.info for h in hosts], monitor=False)
    token = app.config["TEST_TOKENS"]["operator"]
    before = [h.main_pid(WORKER) for h in hosts]
    log = tmp_path / "access.log"
    with Gunicorn(app, workers=2, threads=4, access_log=str(log)) as server:

        def call(method: str, path: str, body=None) -> tuple[int, dict]:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
            try:
                conn.request(method, path, body=json.dumps(body) if body else None,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/json"})
                resp = conn.getresponse()
                return resp.status, json.loads(resp.read())
            finally:
                conn.close()

        status, run = call("POST", "/api/actions",
                           {"action": "restart", "services": [f"{h.name}-demo-worker"
                                                              for h in hosts]})
        assert status == 202, run
        path = f"/api/actions/{run['id']}"
        assert wait_for(lambda: call("GET", path)[1]["state"] != "running", timeout=60)

        def both_workers_answered():
            call("GET", path)
            pids = {line.split()[0] for line in log.read_text().splitlines()
                    if f"GET {path} " in line}
            return len(pids) == 2
        assert wait_for(both_workers_answered, timeout=20, interval=0.05)
        assert call("GET", path)[1]["state"] == "succeeded"
    assert all(h.main_pid(WORKER) != b for h, b in zip(hosts, before, strict=True))


def test_prune_drops_finished_rolling_actions_past_the_audit_retention(app):
    import time

    import sqlalchemy as sa

    from recon.db.extensions import db
    from recon.jobs.retention import run_prune
    from recon.rolling.models import RollingRun, RollingStep

    now, old = time.time(), time.time() - 400 * 86400
    with app.app_context():
        for at, state in ((old, "succeeded"), (now, "succeeded"), (old, "running")):
            run = RollingRun(action="restart", actor="t", selection="services", state=state,
                             created_at=at, heartbeat_at=at,
                             finished_at=at if state != "running" else None)
            db.session.add(run)
            db.session.flush()
            db.session.add(RollingStep(run_id=run.id, position=0, service="demo-web",
                                       host="demo", unit="demo-web.service", state="ok"))
        db.session.commit()
        done = run_prune()
        assert done["rolling_actions"] == 1 and done["rolling_steps"] == 1
        assert sorted(db.session.scalars(sa.select(RollingRun.id))) == [2, 3]
        assert sorted(db.session.scalars(sa.select(RollingStep.run_id))) == [2, 3]


def test_a_running_rolling_action_does_not_hold_back_failure_notifications(make_app,
                                                                          target_info):
    import sqlalchemy as sa

    from recon.audit import store as audit
    from recon.db.extensions import db
    from recon.notify.models import NotifyDelivery
    from recon.notify.worker import process

    toml = ('\n[notify.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
            'events = ["action_failed"]\n')
    app = make_app([target_info], monitor=False, extra_toml=toml)
    config = runtime(app).config
    with app.app_context():
        process(config)  # the cursors start at the newest rows
        # the run's own entry stays open while its steps go; a single action fails meanwhile
        audit.record("rolling.restart", success=None, group_id=1, actor="olga")
        audit.record("restart", success=False, service="demo-worker", host="demo",
                     error="action_failed", exit_code=1, actor="olga")
        process(config)
        events = db.session.scalars(sa.select(NotifyDelivery.event)).all()
    assert events == ["action_failed"]


def test_a_long_rolling_action_keeps_its_audit_entries_open_while_its_runner_lives(
        make_app, target_info):
    import time

    from recon.audit.models import AuditEntry
    from recon.db.extensions import db
    from recon.jobs import repair
    from recon.rolling.models import RollingRun

    app = make_app([target_info], monitor=False)  # its leader would close entries too
    with app.app_context():
        now = time.time()
        run = RollingRun(action="restart", actor="t", selection="services", state="running",
                         created_at=now - 3600, heartbeat_at=now)
        db.session.add(run)
        db.session.flush()
        hour_ago = now - 3600
        group = AuditEntry(actor="t", action="rolling.restart", group_id=run.id, at=hour_ago)
        single = AuditEntry(actor="t", action="restart", service="demo-web", at=hour_ago)
        db.session.add_all([group, single])
        db.session.commit()
        assert repair.close_interrupted() == 1  # the lone action only
        assert db.session.get(AuditEntry, group.id).success is None
        run.heartbeat_at = now - 3600  # its runner went silent
        db.session.commit()
        assert repair.close_interrupted() == 1
        assert db.session.get(AuditEntry, group.id).error == "interrupted"


def test_a_run_whose_process_died_is_ended_by_the_repair_not_by_a_read(make_app, target_info):
    """Reads never write: the monitor leader's repair ends the run, skips what it had not
    begun and closes its audit entry; every worker then reads the same ended run."""
    import time

    from recon.audit import store as audit
    from recon.audit.models import AuditEntry
    from recon.db.extensions import db
    from recon.jobs import repair
    from recon.rolling.models import RollingRun, RollingStep

    app = make_app([target_info], monitor=False)
    with app.app_context():
        now = time.time()
        entry = audit.begin("rolling.restart", actor="olga")
        run = RollingRun(action="restart", actor="olga", selection="services", state="running",
                         created_at=now - 3600, heartbeat_at=now - 3600, audit_id=entry)
        db.session.add(run)
        db.session.flush()
        db.session.add_all([
            RollingStep(run_id=run.id, position=0, service="demo-web", host="demo",
                        unit="demo-web.service", state="ok"),
            RollingStep(run_id=run.id, position=1, service="demo-worker", host="demo",
                        unit="demo-worker.service", state="pending")])
        db.session.commit()
        run_id = run.id
    client = client_for(app, "operator")
    assert client.get(f"/api/actions/{run_id}").get_json()["state"] == "running"
    with app.app_context():
        assert db.session.get(RollingRun, run_id).state == "running"  # the read wrote nothing
        repair.close_interrupted()
    shown = client.get(f"/api/actions/{run_id}").get_json()
    assert (shown["state"], shown["error"]) == ("interrupted", "interrupted")
    assert [s["state"] for s in shown["steps"]] == ["ok", "skipped"]
    with app.app_context():
        closed = db.session.get(AuditEntry, entry)
        assert closed.success is False and closed.error == "interrupted"


# A bad config rolled out: the service starts, runs 1 s, exits 1, and systemd restarts it at
# once, so a read a moment later finds it "active" again (a new MainPID, NRestarts 1).
CRASH_AFTER_1S = """[Service]
ExecStart=
ExecStart=/bin/sh -c 'sleep 1; exit 1'
Restart=on-failure
RestartSec=0
"""


def _seconds(step: dict, start: str, end: str) -> float:
    return (datetime.fromisoformat(step[end]) - datetime.fromisoformat(step[start])).total_seconds()


def test_a_unit_that_crashes_during_its_settle_fails_the_step_and_the_rest_is_untouched(
        make_app, fleet):
    hosts = fleet[:3]
    app = make_app([h.info for h in hosts])
    client = client_for(app, "operator")
    before = [h.show(WORKER, "MainPID", "ActiveEnterTimestamp") for h in hosts]
    hosts[1].set_dropin(WORKER, "crash", CRASH_AFTER_1S)
    try:
        run = _start(client, [f"{h.name}-demo-worker" for h in hosts], settle_seconds=3)
        assert run["settle_seconds"] == 3  # the request's, not the setting's 0.5
        body = _finished(client, run["id"])
    finally:
        hosts[1].set_dropin(WORKER, "crash", None)
        hosts[1].systemctl("restart", WORKER)  # healthy again for the tests after this one
    assert body["state"] == "failed", body
    assert [s["state"] for s in body["steps"]] == ["ok", "failed", "skipped"]
    first, crashed = body["steps"][:2]
    assert _seconds(first, "started_at", "finished_at") >= 3  # held for its whole settle
    assert crashed["error"] == body["error"] == "unit_unstable"
    # It was seen active first (its settle had begun), then it came down within the settle.
    assert crashed["settle_until"] is not None
    found = re.fullmatch(r"demo-worker\.service (restarted|went down) (\d+\.\d) s after "
                         r"restart \((.+)\)", crashed["message"])
    assert found, crashed["message"]
    assert 0.5 <= float(found[2]) < 3
    # caught down ("exited 1, systemd is restarting it") or already back ("NRestarts 0 → 1")
    assert re.search(r"exited 1|NRestarts 0 → 1", found[3]), crashed["message"]
    assert hosts[1].name in body["message"] and "the rest was skipped" in body["message"]
    # The third host was never touched: the same process, active since before the run.
    assert hosts[2].show(WORKER, "MainPID", "ActiveEnterTimestamp") == before[2]
    assert hosts[0].main_pid(WORKER) != int(before[0]["MainPID"])
    entries = client_for(app, "admin").get(f"/api/audit?group={run['id']}").get_json()["entries"]
    outcome = {(e["action"], e["host"]): (e["success"], e["error"]) for e in entries}
    assert outcome == {("restart", hosts[0].name): (True, None),
                       ("restart", hosts[1].name): (False, "unit_unstable"),
                       ("rolling.restart", None): (False, "unit_unstable")}


def test_a_healthy_rolling_restart_holds_each_step_for_the_configured_settle(make_app, fleet,
                                                                            monkeypatch):
    monkeypatch.setenv("RECON_ROLLING_SETTLE_SECONDS", "1")
    hosts = fleet[:2]
    app = make_app([h.info for h in hosts])
    client = client_for(app, "operator")
    before = [h.main_pid(WORKER) for h in hosts]
    run = _start(client, [f"{h.name}-demo-worker" for h in hosts])
    assert run["settle_seconds"] == 1  # no settle_seconds in the request: the setting's
    left_seen: list[float] = []

    def finished():
        body = client.get(f"/api/actions/{run['id']}").get_json()
        left_seen.extend(s["settle_left"] for s in body["steps"] if s["settle_left"])
        return body if body["state"] != "running" else None

    body = wait_for(finished, timeout=60, interval=0.1)
    assert body and body["state"] == "succeeded", body
    assert left_seen and max(left_seen) <= 1  # the progress showed the settle counting down
    after = [h.main_pid(WORKER) for h in hosts]
    assert all(a != b for a, b in zip(after, before, strict=True))
    for step, pid in zip(body["steps"], after, strict=True):
        assert step["state"] == "ok" and step["main_pid"] == pid  # the settle's process
        assert _seconds(step, "started_at", "finished_at") >= 1
        assert step["settle_until"] <= step["finished_at"] and step["settle_left"] is None


@pytest.mark.parametrize("raw", ["-1", "600.5", '"5"', "true", "[5]", "NaN", "1e999"])
def test_a_bad_settle_seconds_is_refused_by_name_and_changes_nothing(app, target, raw):
    client = client_for(app, "operator")
    before = target.main_pid(WORKER)
    resp = client.post("/api/actions", content_type="application/json",
                       data='{"action": "restart", "services": ["demo-worker"], '
                            f'"settle_seconds": {raw}}}')
    data = resp.get_json()
    assert (resp.status_code, data["error"], data["parameter"]) == (
        400, "invalid_parameter", "settle_seconds")
    assert "settle_seconds" in data["message"] and "0 to 600" in data["message"]
    assert client.get("/api/actions").get_json()["actions"] == []
    assert target.main_pid(WORKER) == before
