"""Every unit of the real host: read by the process that watches it (one unprivileged command),
stored, and served with filters, failed first, managed units marked -- through the API and the
CLI."""

from __future__ import annotations

import json

import pytest
from conftest import client_for

from recon.hosts import store, watch

BROKEN = "recon-hosttest-broken.service"


@pytest.fixture
def broken(target):
    """A failed unit nobody manages (a transient one that ran /bin/false)."""
    target.run(["systemd-run", f"--unit={BROKEN}", "/bin/false"])
    yield BROKEN
    target.systemctl("reset-failed", BROKEN, check=False)


def test_the_monitors_process_reads_and_stores_the_units_of_the_hosts_it_watches(app, target):
    with app.app_context():
        assert watch.watched_hosts(app) == ["demo"]
        assert watch.due_hosts(app) == ["demo"]
        before = len(target.command_log())
        assert watch.run_pass(app) == 1
        listed = target.command_log()[before:]
        # read with one command, unprivileged
        assert len(listed) == 1 and "list-unit-files" in listed[0] and "sudo" not in listed[0]
        assert watch.due_hosts(app) == []  # not again before host_units_seconds
        stored = store.stored("demo")
    names = {u["name"] for u in stored.units}
    assert {"demo-web.service", "demo-flaky.service", "demo-backup.timer", "ssh.service"} <= names
    assert stored.read_at is not None and stored.error is None


def test_the_api_lists_the_real_units_failed_first_with_managed_ones_marked(app, broken):
    viewer = client_for(app, "viewer")
    body = viewer.get("/api/hosts/demo/units?fresh=1").get_json()
    # failed first: every failed unit (ours, and any other the host has) before the rest
    states = [u["active"] == "failed" for u in body["units"]]
    assert states == sorted(states, reverse=True)
    assert broken in {u["name"] for u in body["units"] if u["active"] == "failed"}
    units = {u["name"]: u for u in body["units"]}
    web = units["demo-web.service"]
    assert web["managed"] and web["service"] == "demo-web"
    assert web["service_url"] == "/services/demo-web" and web["active"] == "active"
    assert not units["demo-flaky.service"]["managed"]
    # a viewer is given no way to manage a unit; an admin is
    assert all(u["manage_url"] is None for u in body["units"])
    admin = client_for(app, "admin").get("/api/hosts/demo/units?q=demo-flaky").get_json()
    assert admin["units"][0]["manage_url"] == "/hosts/demo/manage?unit=demo-flaky.service"


def test_filters_work_on_the_real_list(app, broken):
    c = client_for(app, "viewer")
    c.get("/api/hosts/demo/units?fresh=1")
    failed = c.get("/api/hosts/demo/units?active=failed").get_json()["units"]
    assert broken in [u["name"] for u in failed] and all(u["active"] == "failed"
                                                          for u in failed)
    timers = c.get("/api/hosts/demo/units?type=timer&q=demo-backup").get_json()["units"]
    assert [u["name"] for u in timers] == ["demo-backup.timer"]
    enabled = c.get("/api/hosts/demo/units?type=service&file_state=enabled").get_json()["units"]
    assert "demo-web.service" in {u["name"] for u in enabled}
    assert all(u["file_state"] == "enabled" for u in enabled)


def test_unknown_hosts_and_bad_filters_are_refused(app):
    c = client_for(app, "viewer")
    missing = c.get("/api/hosts/nohost/units")
    assert missing.status_code == 404 and missing.get_json()["error"] == "unknown_host"
    bad = c.get("/api/hosts/demo/units?type=daemon")
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "type"
    assert "service" in bad.get_json()["hint"]
    hosts = c.get("/api/hosts").get_json()["hosts"]
    assert [h["name"] for h in hosts] == ["demo"]


def test_the_cli_lists_the_units_read_from_the_host_with_filters(app, broken):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "units", "demo", "--type", "service", "-q", "demo"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split()[:2] == ["UNIT", "ACTIVE"]
    web = next(ln for ln in lines if ln.startswith("demo-web.service"))
    assert "demo-web" in web.split()[4:] and "running" in web
    failed = runner.invoke(args=["recon", "units", "demo", "--active", "failed", "--json"])
    listed = json.loads(failed.stdout)
    assert broken in [u["name"] for u in listed] and all(u["active"] == "failed" for u in listed)
    wrong = runner.invoke(args=["recon", "units", "demo", "--active", "up"])
    assert wrong.exit_code == 1 and "invalid_parameter" in wrong.output
    nohost = runner.invoke(args=["recon", "units", "nohost"])
    assert nohost.exit_code == 1 and "no host named" in nohost.output
