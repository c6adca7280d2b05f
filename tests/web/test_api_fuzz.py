"""Property-based requests over the JSON API: odd slugs, actions, query strings and bodies
never produce a 500, and every command that reaches the target is on the allowlist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.config import ACTIONS, HostConfig
from recon.logs.query import sudoers_args_regex
from recon.monitor.signals import watch_argv

MUTATING = {"start", "stop", "restart", "reload", "enable", "disable", "reset-failed", "mask",
            "unmask"}
text = st.text(max_size=40)
slugs = st.one_of(st.sampled_from(["demo-web", "demo-stuck", "demo-cron", "nope", "..", "%2e"]),
                  text)
actions = st.one_of(st.sampled_from([*sorted(set(ACTIONS) - MUTATING), "explode", "", ";id"]),
                    text).filter(lambda a: a not in MUTATING)
# Digits Python's str.isdigit() accepts but int() does not ('²'), or int() reads but are not
# ASCII ('١٢'), and numbers past SQLite's 64-bit range or int()'s 4300 digits.
odd_numbers = st.sampled_from(["²", "١٢", "½", "9" * 30, "9" * 5000, "0" * 20 + "1"])
params = st.dictionaries(st.sampled_from(["lines", "since", "until", "priority", "grep",
                                          "cursor", "limit", "service", "actor", "before",
                                          "hours", "group"]),
                         st.one_of(text, st.integers(-10**20, 10**20).map(str), odd_numbers),
                         max_size=4)
bodies = st.one_of(st.none(), st.dictionaries(text, st.one_of(text, st.integers(), st.none(),
                                                               st.lists(st.integers())),
                                               max_size=3), st.binary(max_size=64))


def allowed(command: str, info) -> bool:
    """The only command shapes RECON may send to a host (under its remote `timeout`)."""
    argv = shlex.split(command)
    if argv[:1] == ["LC_ALL=C"]:  # every command runs in the C locale
        argv = argv[1:]
    if argv[:3] == ["timeout", "-k", "2"]:
        argv = argv[4:]
    units = set(info.units)
    if argv == watch_argv(HostConfig("h", "a", "u", Path("k"))):
        return True  # the monitor's read-only unit watcher, unprivileged
    if argv[:3] in ([info.systemctl, "cat", "--no-pager"], [info.systemctl, "show", "--no-pager"]):
        return len(argv) == 4 and argv[3] in units  # the unit detail view, unprivileged
    if argv[:5] == [info.systemctl, "status", "--no-pager", "--full", "--lines=0"]:
        return len(argv) == 6 and argv[5] in units
    if argv[:2] == [info.systemctl, "show"]:
        rest = argv[4:] if argv[3:4] == ["--timestamp=unix"] else argv[3:]
        return argv[2].startswith("--property=") and set(rest) <= units
    if argv[:2] == [info.sudo, "-n"]:
        argv = argv[2:]
        if argv[:1] == [info.systemctl]:
            return len(argv) == 3 and argv[1] in MUTATING and argv[2] in units
        if argv[:1] == [info.journalctl]:
            return _journal_read(argv[1:], units)
    if argv[:1] == [info.journalctl]:
        return _journal_read(argv[1:], units)
    return False


def _journal_read(args: list[str], units: set[str]) -> bool:
    """Exactly what the host's sudoers journal rule admits for one of the units (the whole
    argument string, not just its ``-u UNIT`` prefix)."""
    return len(args) > 1 and args[1] in units and re.search(
        sudoers_args_regex(args[1]), " ".join(args)) is not None


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]), slug=slugs,
       action=actions, query=params, body=bodies)
def _no_request_shape_causes_a_500(client, method, slug, action, query, body):
    path = f"/api/services/{quote(slug, safe='')}/{quote(action, safe='')}"
    kwargs = {"query_string": query}
    if isinstance(body, bytes):
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    quoted = quote(slug, safe="")
    for url in (path, "/api/services", "/api/audit", f"/api/services/{quoted}/logs",
                f"/api/services/{quoted}/history", "/api/changes"):
        resp = client.open(url, method=method, **kwargs)
        assert resp.status_code < 500 or resp.get_json()["error"] in (
            "unreachable", "timeout", "command_failed"), (url, method, resp.status_code)
        if resp.status_code >= 400:
            assert resp.is_json and {"error", "message", "hint"} <= set(resp.get_json())


def test_no_request_shape_causes_a_500_or_a_command_off_the_allowlist(client, target, target_info):
    before = len(target.command_log())
    _no_request_shape_causes_a_500(client)
    sent = target.command_log()[before:]
    assert sent, "the fuzz run should have reached the target at least once"
    bad = [c for c in sent if not allowed(c, target_info)]
    assert bad == []
