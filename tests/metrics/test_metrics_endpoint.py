"""``GET /metrics``: Prometheus text format from the snapshot, behind auth, valid for
promtool."""

from __future__ import annotations

import re

import promtool
from conftest import client_for
from promtool import needs_promtool


@needs_promtool
def test_metrics_show_units_hosts_actions_and_ssh_latency_and_pass_promtool(app, client):
    assert client.post("/api/services/demo-worker/restart").get_json()["success"] is True
    resp = client_for(app, "viewer").get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    assert re.search(r'recon_unit_state\{host="demo",service="demo-web",'
                     r'state="active",unit="demo-web.service"\} 1\.0', text)
    assert re.search(r'recon_unit_state\{host="demo",service="demo-web",'
                     r'state="failed",unit="demo-web.service"\} 0\.0', text)
    assert 'recon_host_up{host="demo"} 1.0' in text
    assert re.search(r'recon_host_last_seen_age_seconds\{host="demo"\} \d', text)
    assert re.search(r'recon_actions_total\{action="restart",outcome="ok",'
                     r'service="demo-worker"\} 1\.0', text)
    assert re.search(r'recon_ssh_command_seconds_count\{host="demo"\} [1-9]', text)
    for name in ("recon_monitor_event_lag_seconds", "recon_terminals_open",
                 "recon_log_streams_open"):
        assert f"\n{name} " in text, name
    checked = promtool.run("check", "metrics", stdin=resp.get_data())
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_metrics_need_a_token(anon):
    resp = anon.get("/metrics")
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthenticated"
