"""Health checks on a real host: an HTTP check of demo-web that fails while the unit stays
active (a missing page: 404) makes the service ``failing`` after ``fail_after`` rounds -- a
problem on its row, a history event, a metric and a ``unit_unhealthy`` message to a real
webhook -- and ``passing`` again after ``recover_after`` (``unit_recovered``); TCP and
command checks; all of a host's checks in one command per round, run as the login user."""

from __future__ import annotations

from conftest import client_for
from health_config import PAGE, web_health_toml
from helpers import wait_for
from notify_receivers import WebhookReceiver, hook_toml

FLAG = "/tmp/recon-health-flag"


def health_toml(name: str, address: str) -> str:
    return web_health_toml(name, address) + f"""
[[services]]
slug = "web-tcp"
name = "Web (TCP check)"
host = "{name}"
unit = "demo-web.service"
[services.health]
kind = "tcp"
address = "{address}:8080"
interval = 5
timeout = 2

[[services]]
slug = "worker-cmd"
name = "Worker (command check)"
host = "{name}"
unit = "demo-worker.service"
[services.health]
kind = "command"
command = ["/usr/bin/test", "-e", "{FLAG}"]
interval = 5
timeout = 2
fail_after = 1
recover_after = 1
"""


def _status(client, slug: str) -> dict:
    return client.get(f"/api/services/{slug}/status").get_json()


def _health(client, slug: str) -> str | None:
    return _status(client, slug).get("health")


def test_an_http_check_fails_while_the_unit_is_active_then_recovers_with_events_and_messages(
        make_app, target):
    info = target.info
    target.run(["sh", "-c", f"echo 'all good' > {PAGE}; touch {FLAG}"])
    hook = WebhookReceiver()
    app = make_app([info], extra_toml=health_toml(info.name, info.address) + hook_toml(
        "ops", hook.url, services=["web-health"], group_seconds=600, resolve_seconds=1))
    client = client_for(app, "admin")
    try:
        assert wait_for(lambda: _health(client, "web-health") == "passing", timeout=20), \
            _status(client, "web-health")
        passing = _status(client, "web-health")
        last = passing["health_check"]["last"]
        assert last["ok"] is True and last["status"] == 200 and last["message"] == "HTTP 200"
        assert 0 < last["latency_ms"] < 2000
        assert wait_for(lambda: _health(client, "web-tcp") == "passing", timeout=20)
        assert wait_for(lambda: _health(client, "worker-cmd") == "passing", timeout=20)

        # The page goes (404) while demo-web stays active: failing after 2 rounds.
        target.run(["rm", "-f", PAGE])
        failing = wait_for(lambda: (s := _status(client, "web-health"))["health"] == "failing"
                           and s, timeout=30)
        assert failing, _status(client, "web-health")
        assert failing["state"] == "active"
        assert failing["health_check"]["last"]["status"] == 404
        assert failing["health_check"]["fails"] >= 2
        # the other checks of the same unit still pass: the TCP port answers
        assert _health(client, "web-tcp") == "passing"
        compact = client.get("/api/services?view=compact").get_json()
        cols = compact["columns"]
        row = next(r for r in compact["services"] if r[cols.index("slug")] == "web-health")
        assert row[cols.index("health")] == "failing" and row[cols.index("state")] == "active"
        events = client.get("/api/services/web-health/history").get_json()["events"]
        assert events[0]["health"] == "failing" and events[0]["to"] == "active"
        metrics = client.get("/metrics").get_data(as_text=True)
        labels = f'host="{info.name}",service="web-health",unit="demo-web.service"'
        assert (f'recon_unit_health{{host="{info.name}",service="web-health",state="failing",'
                'unit="demo-web.service"} 1.0') in metrics
        assert f"recon_unit_health_latency_seconds{{{labels}}}" in metrics
        told = wait_for(lambda: hook.bodies("unit_unhealthy"), timeout=20)
        assert told and told[0]["unit"] == "demo-web.service" and told[0]["check"] == "http"
        assert "fails its http check" in told[0]["text"] and "HTTP 404" in told[0]["text"]

        # The page is back: passing again after 2 good rounds, the problem resolved.
        target.run(["sh", "-c", f"echo 'all good' > {PAGE}"])
        assert wait_for(lambda: _health(client, "web-health") == "passing", timeout=30)
        resolved = wait_for(lambda: hook.bodies("unit_recovered"), timeout=20)
        assert resolved and resolved[0]["health"] is True and resolved[0]["resolved"] is True
        assert resolved[0]["unit"] == "demo-web.service"
        assert len(hook.bodies("unit_unhealthy")) == 1
        events = client.get("/api/services/web-health/history").get_json()["events"]
        assert events[0]["health"] == "passing"

        # The command check: fail_after = 1, recover_after = 1.
        target.run(["rm", "-f", FLAG])
        failing = wait_for(lambda: (s := _status(client, "worker-cmd"))["health"] == "failing"
                           and s, timeout=20)
        assert failing and failing["health_check"]["last"]["message"] == "exit 1"
        target.run(["touch", FLAG])
        assert wait_for(lambda: _health(client, "worker-cmd") == "passing", timeout=20)

        # A stopped unit is not judged: unknown, and no message for it.
        target.systemctl("stop", "demo-worker.service")
        assert wait_for(lambda: _health(client, "worker-cmd") == "unknown", timeout=20)

        # Three checks, one command per round: at most one per interval (5 s) and a few
        # more for the checks run at once after a (re)start.
        rounds = [c for c in target.command_log() if " -I -c " in c]
        assert rounds and all("sudo" not in c.split(" -I -c ")[0] for c in rounds)
    finally:
        target.run(["sh", "-c", f"rm -f {PAGE} {FLAG}"])
        target.systemctl("start", "demo-worker.service")
        hook.close()
