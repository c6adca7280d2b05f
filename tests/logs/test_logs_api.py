"""``GET /api/services/<slug>/logs`` and ``logs.txt`` against the real target: its own
journald records the units' output, read through sudo with the real journalctl."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from conftest import client_for
from pg_cluster import app_database_uri

from recon import create_app
from recon.audit.models import AuditEntry
from recon.auth.accounts import create_token
from recon.demo.recon_config import demo_config_toml


def emit(target, unit: str, text: str) -> None:
    """Make the running service print ``text`` on its stdout; the host's journald records it
    for the unit (a ``<N>`` prefix sets the priority, as for any service)."""
    target.emit(unit, text)


def wait_for_lines(client, url: str, predicate, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        resp = client.get(url)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        if predicate(body["lines"]) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def messages(lines: list[dict]) -> list[str]:
    return [line["message"] for line in lines]


@pytest.fixture
def marker() -> str:
    return f"mark-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def viewer(app):
    return client_for(app, "viewer")


def test_a_line_the_service_writes_is_read_back_structured(viewer, target, marker):
    body = wait_for_lines(viewer, "/api/services/demo-web/logs?lines=20",
                          lambda lines: any("demo-web: heartbeat" in m for m in messages(lines)))
    beat = next(ln for ln in body["lines"] if "demo-web: heartbeat" in ln["message"])
    assert beat["ident"] == "demo-web" and beat["priority"] == 6 and beat["pid"] > 1
    assert beat["ts"].endswith("+00:00") and beat["cursor"].startswith("s=")
    for i in range(6):
        emit(target, "demo-web.service", f"hello {i} {marker}")
    body = wait_for_lines(viewer, "/api/services/demo-web/logs?lines=5",
                          lambda lines: f"hello 5 {marker}" in messages(lines))
    assert messages(body["lines"]) == [f"hello {i} {marker}" for i in range(1, 6)]  # oldest first
    assert body["service"] == "demo-web" and body["truncated"] is True
    assert body["command"] == f"sudo {target.info.journalctl} -u demo-web.service -n 5"
    assert len(body["lines"]) == 5


def test_priority_filter_returns_only_that_severity_or_worse(viewer, target, marker):
    for prefix, word in (("<3>", "err"), ("<4>", "warn"), ("", "info")):
        emit(target, "demo-web.service", f"{prefix}{word} {marker}")
    url = f"/api/services/demo-web/logs?lines=200&grep={marker}"
    wait_for_lines(viewer, url, lambda lines: len(lines) == 3)
    errors = viewer.get(url + "&priority=err").get_json()["lines"]
    assert messages(errors) == [f"err {marker}"] and errors[0]["priority"] == 3
    warnings = viewer.get(url + "&priority=4").get_json()
    assert messages(warnings["lines"]) == [f"err {marker}", f"warn {marker}"]
    assert "-p warning" in warnings["command"]
    everything = viewer.get("/api/services/demo-web/logs?lines=300&priority=notice").get_json()
    assert everything["lines"] and all(ln["priority"] <= 5 for ln in everything["lines"])


def test_since_and_until_split_the_journal_at_a_time(viewer, target, marker):
    emit(target, "demo-web.service", f"before {marker}")
    url = f"/api/services/demo-web/logs?grep={marker}"
    wait_for_lines(viewer, url, lambda lines: len(lines) == 1)
    time.sleep(1.05)  # journalctl times have whole seconds
    cut = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    time.sleep(1.05)
    emit(target, "demo-web.service", f"after {marker}")
    wait_for_lines(viewer, url, lambda lines: len(lines) == 2)
    assert messages(viewer.get(f"{url}&since={cut}").get_json()["lines"]) == [f"after {marker}"]
    assert messages(viewer.get(f"{url}&until={cut}").get_json()["lines"]) == [f"before {marker}"]
    recent = viewer.get("/api/services/demo-web/logs?since=-2s&lines=1000").get_json()["lines"]
    assert recent and all(ln["ts"] >= time.strftime("%Y-%m-%dT%H:%M", time.gmtime(
        time.time() - 120)) for ln in recent)


def test_grep_is_one_literal_argument_and_never_reaches_a_shell(viewer, target, marker):
    pwned = f"/tmp/recon-pwned-{marker}"
    nasty = f"cost $(touch {pwned}) `touch {pwned}`; touch {pwned} | & > < * {marker}"
    emit(target, "demo-web.service", nasty)
    body = wait_for_lines(viewer, f"/api/services/demo-web/logs?lines=10&grep={marker}",
                          lambda lines: len(lines) == 1)
    for grep in (f"$(touch {pwned})", f"`touch {pwned}`", f"; touch {pwned}", nasty):
        resp = viewer.get("/api/services/demo-web/logs", query_string={"grep": grep})
        assert resp.status_code == 200, resp.get_json()
        assert messages(resp.get_json()["lines"]) == [nasty], grep  # matched literally
    import os
    assert not os.path.exists(pwned)
    sent = [c for c in target.command_log() if "touch" in c and "journalctl" in c]
    assert sent and all("\\$\\(touch\\x20" in c or "touch\\x20" in c for c in sent)
    assert messages(body["lines"]) == [nasty]


def test_messages_with_control_characters_come_back_exactly(viewer, target, marker):
    colored = f"\x1b[31mred\x1b[0m {marker} \u00e9\t|"
    emit(target, "demo-web.service", colored)  # journalctl exports it in binary form
    body = wait_for_lines(viewer, f"/api/services/demo-web/logs?grep={marker}&lines=3",
                          lambda lines: len(lines) == 1)
    assert messages(body["lines"]) == [colored] and body["lines"][0]["cursor"]


def test_lines_and_cursor_page_without_gaps(viewer, target, marker):
    for i in range(6):
        emit(target, "demo-web.service", f"page {i} {marker}")
    url = f"/api/services/demo-web/logs?grep={marker}"
    everything = wait_for_lines(viewer, url, lambda lines: len(lines) == 6)["lines"]
    newest = viewer.get(f"{url}&lines=2").get_json()
    assert newest["truncated"] and newest["lines"] == everything[-2:]
    page = viewer.get(f"{url}&lines=3&cursor={everything[0]['cursor']}").get_json()
    assert page["lines"] == everything[1:4] and page["truncated"] is True
    rest = viewer.get(f"{url}&lines=3&cursor={page['lines'][-1]['cursor']}").get_json()
    assert rest["lines"] == everything[4:] and rest["truncated"] is False


def test_text_download_has_the_same_lines(viewer, target, marker):
    emit(target, "demo-web.service", f"<4>download {marker}")
    wait_for_lines(viewer, f"/api/services/demo-web/logs?grep={marker}", lambda x: len(x) == 1)
    resp = viewer.get(f"/api/services/demo-web/logs.txt?grep={marker}&lines=5")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="demo-web.log"'
    first, line = resp.get_data(as_text=True).splitlines()
    assert first.startswith(f"# sudo {target.info.journalctl} -u demo-web.service -n 5 -g")
    assert line.endswith(f" demo-web[{line.split('[')[1].split(']')[0]}]: download {marker}")


BAD = [
    ("lines=-1", "lines"), ("lines=0", "lines"), ("lines=5001", "lines"),
    ("lines=999999999999", "lines"), ("lines=ten", "lines"), ("since=yesterday-ish", "since"),
    ("since=2026-02-30", "since"), ("since=-1h%3Breboot", "since"), ("until=%24(id)", "until"),
    ("priority=loud", "priority"), ("priority=9", "priority"), ("grep=" + "x" * 201, "grep"),
    ("grep=a%0Ab", "grep"), ("cursor=s%3D1", "cursor"), ("follow=1", "follow"),
    ("lines=1&lines=2", "lines"), ("since=now&until=-1h", "until"),
]


@pytest.mark.parametrize("query,parameter", BAD)
def test_bad_parameters_answer_400_naming_the_parameter(viewer, query, parameter):
    resp = viewer.get(f"/api/services/demo-web/logs?{query}")
    body = resp.get_json()
    assert resp.status_code == 400, body
    assert body["error"] == "invalid_parameter" and body["parameter"] == parameter
    assert body["message"] and body["hint"]


def test_logs_are_a_viewer_read_and_not_audited(app, viewer, anon):
    assert anon.get("/api/services/demo-web/logs").status_code == 401
    with app.app_context():
        before = AuditEntry.query.count()
    assert viewer.get("/api/services/demo-web/logs?lines=1").status_code == 200
    assert viewer.get("/api/services/demo-web/logs.txt?lines=1").status_code == 200
    with app.app_context():
        assert AuditEntry.query.count() == before
    runbook = client_for(app, "admin").post("/api/services/demo-web/logs").get_json()
    assert runbook["success"] is True and 0 < len(runbook["lines"]) <= 50
    assert all("demo-web" in line for line in runbook["lines"])
    with app.app_context():
        assert AuditEntry.query.order_by(AuditEntry.id.desc()).first().action == "logs"


def test_a_service_without_logs_action_answers_403(tmp_path, target_info):
    toml = demo_config_toml([target_info], known_hosts=target_info.known_hosts_path)
    toml = re.sub(r'unit = "demo-worker.service"\nactions = \[[^\]]*\]',
                  'unit = "demo-worker.service"\nactions = ["status"]', toml)
    assert 'actions = ["status"]' in toml
    (tmp_path / "recon.toml").write_text(toml)
    app = create_app({"TESTING": True, "SECRET_KEY": "t",
                      "RECON_CONFIG": str(tmp_path / "recon.toml"),
                      "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})
    with app.app_context():
        app.config["TEST_TOKENS"] = {"viewer": create_token("v", "viewer")[1]}
    viewer = client_for(app, "viewer")
    for path in ("logs", "logs.txt", "logs/stream"):
        resp = viewer.get(f"/api/services/demo-worker/{path}")
        assert resp.status_code == 403 and resp.get_json()["error"] == "action_not_allowed"
    assert viewer.get("/api/services/nope/logs").status_code == 404


def test_a_withdrawn_sudo_rule_is_a_clear_403(viewer, target):
    target.set_sudo_rule("demo-cron.service", "journal", allowed=False)
    try:
        body = viewer.get("/api/services/demo-cron/logs").get_json()
        assert body["error"] == "sudo_password_required" and "demo-cron" in body["message"]
    finally:
        target.set_sudo_rule("demo-cron.service", "journal", allowed=True)
    assert viewer.get("/api/services/demo-cron/logs").status_code == 200


def test_real_sudo_admits_recons_argv_and_nothing_broader(runtime, target_info):
    host = runtime.config.hosts["demo"]
    j = target_info.journalctl

    def allowed(*args: str) -> bool:
        return runtime.executor.run(host, [host.sudo, "-n", "-l", j, *args]).exit_code == 0

    base = ["-u", "demo-web.service", "--no-pager"]
    assert allowed(*base, "-o", "short-iso", "-r", "-n", "50")
    assert allowed(*base, "-o", "json", "--output-fields=MESSAGE,PRIORITY,_PID,"
                   "SYSLOG_IDENTIFIER,_COMM", "-f", "-n", "10", "-p", "3",
                   "--since=2026-11-22 10:00", "-g", r"a\x20b")
    assert not allowed("-u", "demo-web.service", "-n", "5", "--no-pager")  # the old `*` rule
    assert not allowed(*base, "-o", "short-iso", "-n", "5", "-u", "ssh.service")
    assert not allowed("-u", "ssh.service", "--no-pager", "-o", "short-iso", "-f", "-n", "5")
    assert not allowed(*base, "-o", "short-iso", "-n", "5", "--vacuum-size=1")
    assert not allowed(*base, "-o", "short-iso", "-n", "5", "-g", "x --rotate")
    assert not allowed(*base, "-o", "short-iso", "-n", "5", "-g", "--vacuum-time=1s")
