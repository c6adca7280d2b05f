"""Faults seen through the API: each answers its error code within its bound, other hosts
keep their normal latency meanwhile, the pool recovers, and the audit log holds the failure;
an unreachable host's answer names the exact ssh command to try. Bounds are generous on
purpose (2 shared cores); each states what it checks."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import replace

import pytest
from conftest import client_for, requested_commands
from helpers import Tarpit, free_port, wait_for

from recon.audit.models import AuditEntry
from recon.ssh.hostkeys import known_hosts_name


def last_audit(app, action: str, service: str) -> AuditEntry:
    with app.app_context():
        return (AuditEntry.query.filter_by(action=action, service=service)
                .order_by(AuditEntry.id.desc()).first())


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


def test_a_closed_port_marks_only_its_services_unreachable_at_once(make_app, target_info):
    dead = replace(target_info, name="dead", port=free_port())
    app = make_app([target_info, dead], connect_timeout=2)
    client = client_for(app)
    body, took = timed(lambda: client.get("/api/services").get_json())
    by_host = {h["name"]: h for h in body["hosts"]}
    assert by_host["dead"]["reachable"] is False and by_host["dead"]["error"] == "unreachable"
    assert by_host["demo"]["reachable"] is True
    states = {s["slug"]: s["state"] for s in body["services"]}
    assert states["dead-demo-web"] == "unreachable" and states["demo-demo-web"] == "active"
    assert took < 2.0  # bound: a refused port costs ~0 s, far below connect_timeout


def test_a_tarpit_host_costs_at_most_its_connect_timeout_and_not_the_others(
        make_app, target_info):
    pit = Tarpit()
    try:
        slow = replace(target_info, name="pit", address="127.0.0.1", port=pit.port)
        app = make_app([target_info, slow], connect_timeout=1.5)
        client = client_for(app)
        body, took = timed(lambda: client.get("/api/services").get_json())
        assert {h["name"]: h["reachable"] for h in body["hosts"]} == {"demo": True, "pit": False}
        assert took < 1.5 + 1.5  # bound: the tarpit's connect_timeout plus slack
        # while the tarpit is being waited on, the healthy host answers at normal speed
        results = {}
        waiter = threading.Thread(target=lambda: results.setdefault(
            "pit", client_for(app).post("/api/services/pit-demo-web/restart")))
        waiter.start()
        time.sleep(0.1)
        healthy, took = timed(lambda: client.get("/api/services/demo-demo-web/status"))
        assert healthy.get_json()["active"] is True and took < 1.0  # bound: normal latency
        waiter.join(10)
        # the monitor already knows: the action is answered at once with why and since when
        body = results["pit"].get_json()
        assert results["pit"].status_code == 503 and body["error"] == "host_down", body
        assert body["cause"] == "timeout" and "no SSH banner" in body["message"]
        assert body["down_since"]
        entry = last_audit(app, "restart", "pit-demo-web")
        assert entry.success is False and entry.error == "host_down"
    finally:
        pit.close()


def test_a_changed_host_key_is_refused_with_host_key_changed(make_app, target_info, tmp_path):
    kh = tmp_path / "changed_known_hosts"
    other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    name = known_hosts_name(target_info.address, target_info.port)
    kh.write_text(f"{name} ssh-ed25519 {other}\n")
    app = make_app([target_info], known_hosts=kh)
    client = client_for(app)
    status = client.get("/api/services/demo-web/status").get_json()
    assert status["state"] == "unreachable" and status["error"] == "host_key_changed"
    resp = client.post("/api/services/demo-web/restart")
    assert resp.status_code == 502 and resp.get_json()["error"] == "host_key_changed"
    assert "SHA256:" in resp.get_json()["message"]
    assert last_audit(app, "restart", "demo-web").error == "host_key_changed"
    # the monitor recovers by itself once the right key is trusted again (bound: its back-off)
    kh.write_text(target_info.host_key_line + "\n")
    assert wait_for(lambda: client.get("/api/services/demo-web/status").get_json()["active"],
                    timeout=12)


def test_a_missing_sudo_rule_answers_sudo_password_required_and_is_audited(client, app, target):
    target.set_sudo_rule("demo-worker.service", "restart", allowed=False)
    try:
        resp, took = timed(lambda: client.post("/api/services/demo-worker/restart"))
        body = resp.get_json()
        assert resp.status_code == 403 and body["error"] == "sudo_password_required"
        assert "visudo -cf" in body["hint"] and body["success"] is False
        assert took < 3.0  # bound: sudo -n fails at once instead of waiting for a password
        assert last_audit(app, "restart", "demo-worker").error == "sudo_password_required"
    finally:
        target.set_sudo_rule("demo-worker.service", "restart", allowed=True)
    assert client.post("/api/services/demo-worker/restart").get_json()["success"] is True


def test_a_hanging_action_times_out_and_leaves_nothing_on_the_target(make_app, target_info,
                                                                      target):
    app = make_app([target_info], command_timeout=2)
    client = client_for(app)
    resp, took = timed(lambda: client.post("/api/services/demo-stuck/reload"))
    assert resp.status_code == 504 and resp.get_json()["error"] == "timeout"
    assert 1.9 < took < 2 + 3.5  # bound: command_timeout plus the remote kill grace
    assert last_audit(app, "reload", "demo-stuck").error == "timeout"
    # The remote `timeout` ends the systemctl client at once. The reload job itself belongs to
    # systemd and outlives its client (real semantics): the unit shows "reloading" until
    # systemd kills the hung ExecReload after the unit's TimeoutStartSec (8 s).
    deadline = time.monotonic() + 3
    while target.remote_processes("systemctl reload") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.remote_processes("systemctl reload") == []
    # the snapshot follows systemd (a D-Bus signal, then a read): reloading, then active
    assert wait_for(lambda: client.get("/api/services/demo-stuck/status").get_json()["state"]
                    == "reloading", timeout=3)
    deadline = time.monotonic() + 10
    while target.remote_processes("sleep 600") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.remote_processes("sleep 600") == []
    assert wait_for(lambda: client.get("/api/services/demo-stuck/status").get_json()["active"],
                    timeout=3)


def test_sshd_restarted_under_the_pool_recovers_by_itself(client, target):
    assert client.get("/api/services/demo-web/status").get_json()["active"] is True
    target.restart_sshd(drop_sessions=True)  # returns once the new sshd sends its banner
    # The monitor notices the dropped connection at once and may catch sshd mid-restart: then
    # the host is in its first, 1 s back-off. Within it a read answers host_down at once; after
    # it a synchronous read reconnects, and the snapshot follows by itself.
    started = time.monotonic()
    assert wait_for(lambda: client.get("/api/services/demo-web/status?fresh=1")
                    .get_json().get("active"), timeout=5)
    assert time.monotonic() - started < 2.5  # bound: the first back-off (1 s) plus a read
    assert wait_for(lambda: client.get("/api/services").get_json()["hosts"][0]["state"] == "up",
                    timeout=10)


def test_connection_cut_mid_command_is_an_error_within_a_second(client, runtime, target):
    host = runtime.config.hosts["demo"]
    errors = []

    def long_command():
        try:
            runtime.executor.run(host, ["sleep", "4"])
        except Exception as exc:  # noqa: BLE001 - the type is asserted below
            errors.append(exc)

    t = threading.Thread(target=long_command)
    t.start()
    deadline = time.monotonic() + 5
    while not target.remote_processes("sleep 4") and time.monotonic() < deadline:
        time.sleep(0.02)  # wait until the command really runs on the host
    assert target.remote_processes("sleep 4")
    cut = time.monotonic()
    target.restart_sshd(drop_sessions=True)
    t.join(10)
    assert errors and type(errors[0]).__name__ == "Unreachable", errors
    assert time.monotonic() - cut < 2.0  # bound: noticed when the peer closes, not at 4 s
    # the snapshot recovers by itself (bound: the monitor's first back-off plus a read)
    assert wait_for(lambda: client.get("/api/services/demo-web/status").get_json()["active"],
                    timeout=5)


ODD = ["/api/services/..%2f..%2fetc%2fpasswd/status", "/api/services/demo-web%00/restart",
       "/api/services/demo-web/restart%20now", "/api/services/%E2%98%83/stop",
       "/api/services/" + "a" * 5000 + "/status"]
ODD_GETS = ["/api/services/demo-web/logs?lines=-1",
            "/api/services/demo-web/logs?lines=99999999999999999999",
            "/api/audit?limit=abc", "/api/audit?since=yesterday-ish"]


@pytest.mark.parametrize("method, path", [(m, p) for p in ODD for m in ("GET", "POST")]
                         + [("GET", p) for p in ODD_GETS])
def test_odd_requests_get_clear_4xx_and_run_nothing(client, target, method, path):
    before = len(target.command_log())
    resp = client.open(path, method=method)
    assert 400 <= resp.status_code < 500, (path, method, resp.status_code)
    assert resp.get_json()["error"]
    assert requested_commands(target.command_log()[before:]) == []


def test_api_hints_name_the_hosts_exact_ssh_command(make_app, target_info, tmp_path):
    closed = dataclasses.replace(target_info, port=1)
    app = make_app([closed])
    body = client_for(app).post("/api/services/demo-web/restart").get_json()
    # the monitor found the port closed already: answered at once, saying why
    assert (body["error"], body["cause"]) == ("host_down", "unreachable")
    expected = (f"ssh -p 1 -i {target_info.key_path} -o UserKnownHostsFile="
                f"{app.config['RECON_KNOWN_HOSTS']} -o StrictHostKeyChecking=yes")
    assert body["ssh"].startswith(expected) and expected in body["hint"]
    assert body["ssh"].endswith(f"{target_info.user}@{target_info.address}")
