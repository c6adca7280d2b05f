"""The health rule: passing after the first good result, failing after ``fail_after`` failures
in a row, passing again after ``recover_after`` passes in a row; unknown while the unit is
down; a check that could not run changes nothing; the rolling step's verdict; one command
for all of a host's checks."""

from __future__ import annotations

import json
import shlex

from recon.config.health import HealthCheck
from recon.config.models import ServiceConfig
from recon.monitor.healthcheck import check_argv
from recon.monitor.healthstate import apply, carry, decide, settled_healthy
from recon.monitor.models import iso


def _svc(fail_after: int = 3, recover_after: int = 2, **kw) -> ServiceConfig:
    check = HealthCheck(kind="http", url="http://127.0.0.1:8080/", fail_after=fail_after,
                        recover_after=recover_after, **kw)
    return ServiceConfig(slug="web", name="Web", host="h", unit="web.service", health=check)


def _run(status: dict, svc: ServiceConfig, oks: list, at: float = 1000.0) -> list[str]:
    seen = []
    for i, ok in enumerate(oks):
        apply(status, {"ok": ok, "status": 200 if ok else 500, "latency_ms": 3.0,
                       "message": "HTTP 200" if ok else "HTTP 500"}, svc, at + i)
        seen.append(status["health"])
    return seen


def test_unknown_passes_at_once_and_fails_only_after_n_in_a_row():
    svc = _svc(fail_after=3)
    status = {"state": "active"}
    carry(None, status, svc, 0)
    assert status["health"] == "unknown"
    assert _run(status, svc, [True, False, False, True, False, False, False]) == [
        "passing", "passing", "passing", "passing", "passing", "passing", "failing"]
    assert status["health_check"]["last"]["message"] == "HTTP 500"
    assert status["health_check"]["since"] == iso(1006.0)


def test_a_failing_service_recovers_after_m_passes_in_a_row():
    svc = _svc(fail_after=1, recover_after=3)
    status = {"state": "active"}
    assert _run(status, svc, [False, True, True, False, True, True, True]) == [
        "failing", "failing", "failing", "failing", "failing", "failing", "passing"]


def test_a_check_that_could_not_run_changes_nothing():
    counts = {"fails": 2, "passes": 0}
    assert decide("passing", counts, None, 3, 2) == "passing" and counts["fails"] == 2


def test_a_unit_that_is_not_up_has_unknown_health_and_starts_afresh():
    svc = _svc(fail_after=2)
    status = {"state": "active"}
    _run(status, svc, [False, False])
    assert status["health"] == "failing"
    stopped = {"state": "inactive"}
    carry(status, stopped, svc, 2000)
    assert stopped["health"] == "unknown" and stopped["health_check"]["fails"] == 0
    assert stopped["health_check"]["note"]
    # a result that arrives after the stop is kept as the last one but judges nothing
    assert apply(stopped, {"ok": False, "message": "refused"}, svc, 2001) is False
    assert stopped["health"] == "unknown"
    up = {"state": "active"}
    carry(stopped, up, svc, 2002)
    assert _run(up, svc, [True]) == ["passing"]


def test_a_service_whose_check_was_removed_loses_its_health():
    status = {"state": "active", "health": "failing", "health_check": {}}
    carry(status, status, ServiceConfig(slug="web", name="Web", host="h", unit="web.service"),
          0)
    assert "health" not in status and "health_check" not in status


def test_the_rolling_verdict_needs_a_pass_after_the_action():
    svc = _svc(fail_after=3)
    status = {"state": "active"}
    _run(status, svc, [True], at=100)
    assert settled_healthy(status, since=50) is True
    assert settled_healthy(status, since=200) is None  # that pass is from before the action
    _run(status, svc, [False], at=300)
    assert settled_healthy(status, since=200) is None  # one failure: not failing yet
    _run(status, svc, [False, False], at=301)
    assert settled_healthy(status, since=200) is False
    assert settled_healthy(status, since=400) is None  # failing from before: may be fixed


def test_one_command_runs_all_of_a_hosts_checks_with_values_from_the_config():
    from recon.config.models import HostConfig
    host = HostConfig(name="h", address="192.0.2.1", user="recon", key_path="/k")
    a = _svc(body="ok", tls_verify=False)
    b = ServiceConfig(slug="db", name="Db", host="h", unit="db.service",
                      health=HealthCheck(kind="tcp", address="127.0.0.1:5432"))
    argv = check_argv(host, [a, b])
    assert argv[:3] == ["/usr/bin/python3", "-I", "-c"] and len(argv) == 5
    spec = json.loads(argv[4])
    assert [c["id"] for c in spec] == ["web", "db"]
    assert spec[0]["ranges"] == [[200, 399]] and spec[0]["body"] == "ok"
    assert spec[0]["verify"] is False and spec[1]["address"] == "127.0.0.1:5432"
    assert shlex.split(shlex.join(argv)) == argv  # quoted as one argument each
