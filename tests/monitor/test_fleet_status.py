"""A fleet of five real hosts: one batched status call per host, hosts in parallel, and one
host going down leaves the others readable."""

from __future__ import annotations

import time

from conftest import client_for
from helpers import wait_for

from recon.web.context import runtime


def test_five_real_hosts_answer_one_fleet_call_and_a_dead_one_is_only_itself(make_app, fleet):
    app = make_app([h.info for h in fleet])
    client = client_for(app)
    started = time.monotonic()
    body = client.get("/api/services").get_json()
    assert time.monotonic() - started < 5
    assert [(h["name"], h["reachable"], h["state"]) for h in body["hosts"]] == [
        (h.name, True, "up") for h in fleet]
    assert len(body["services"]) == 5 * 4
    assert all(s["active"] and s["since"].endswith("Z") for s in body["services"])
    # each host's sudo rules are its own: an action on web3 reaches web3 only
    web3 = fleet[2]
    before = web3.main_pid("demo-worker.service")
    others = [h.main_pid("demo-worker.service") for h in fleet if h is not web3]
    assert client.post("/api/services/web3-demo-worker/restart").get_json()["success"] is True
    assert web3.main_pid("demo-worker.service") != before
    assert [h.main_pid("demo-worker.service") for h in fleet if h is not web3] == others

    down = fleet[4]
    down.systemctl("stop", "ssh.service")
    try:
        runtime(app).executor.close_all()  # as after the host went away
        expected = {h.name: h is not down for h in fleet}

        def reach():
            body = client.get("/api/services").get_json()
            return {h["name"]: h["reachable"] for h in body["hosts"]}, body

        # the monitor's watcher loses its channel and the supervisor reads at once (bound: a
        # second; a lost connection that nobody notices would wait for the 15 s poll)
        started = time.monotonic()
        assert wait_for(lambda: reach()[0] == expected, timeout=10)
        assert time.monotonic() - started < 3
        body = reach()[1]
        states = {s["slug"]: s["state"] for s in body["services"]}
        assert states["web5-demo-web"] == "unreachable" and states["web1-demo-web"] == "active"
    finally:
        down.systemctl("start", "ssh.service")
