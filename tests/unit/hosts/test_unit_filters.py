"""The host page's filters, their order (failed first) and the managed marks, on records."""

from __future__ import annotations

import pytest

from recon.config import ServiceConfig
from recon.core.errors import InvalidParameter
from recon.hosts.filters import Filters, failed_first, manageable, managed_units, parse_filters
from recon.hosts.view import mark


def unit(name, active="active", file_state="enabled", description="", load="loaded"):
    return {"name": name, "type": name.rpartition(".")[2], "load": load, "active": active,
            "sub": None, "file_state": file_state, "preset": None, "description": description}


UNITS = [unit("nginx.service", description="A high performance web server"),
         unit("backup.timer", file_state="enabled"),
         unit("zz-broken.service", active="failed", file_state="disabled"),
         unit("-.mount", file_state=None, description="Root Mount"),
         unit("a-broken.socket", active="failed", file_state="static")]


def names(units):
    return [u["name"] for u in units]


def test_no_filter_lets_everything_through_failed_first_then_by_name():
    chosen = failed_first(u for u in UNITS if Filters().matches(u))
    assert names(chosen) == ["a-broken.socket", "zz-broken.service", "-.mount", "backup.timer",
                             "nginx.service"]


@pytest.mark.parametrize("args, expected", [
    ({"type": "service"}, ["nginx.service", "zz-broken.service"]),
    ({"type": "service,timer"}, ["backup.timer", "nginx.service", "zz-broken.service"]),
    ({"active": "failed"}, ["a-broken.socket", "zz-broken.service"]),
    ({"file_state": "none"}, ["-.mount"]),
    ({"file_state": "enabled", "type": "service"}, ["nginx.service"]),
    ({"q": "WEB SERVER"}, ["nginx.service"]),
    ({"q": "broken", "type": "socket"}, ["a-broken.socket"]),
    ({"q": "", "type": ""}, sorted(names(UNITS))),
])
def test_filters_combine(args, expected):
    filters = parse_filters(args)
    assert sorted(names(u for u in UNITS if filters.matches(u))) == sorted(expected)


@pytest.mark.parametrize("args, parameter", [
    ({"type": "servise"}, "type"),
    ({"type": "service,nope"}, "type"),
    ({"active": "running"}, "active"),  # a sub state, not an active state
    ({"file_state": "on"}, "file_state"),
    ({"q": "x" * 201}, "q"),
])
def test_a_bad_filter_value_is_refused_with_the_words_it_may_be(args, parameter):
    with pytest.raises(InvalidParameter) as info:
        parse_filters(args)
    assert info.value.parameter == parameter and info.value.status == 400
    if parameter != "q":
        assert "service" in info.value.hint or "failed" in info.value.hint or (
            "enabled" in info.value.hint)


def test_managed_units_are_the_services_of_this_host_and_their_timers():
    services = [ServiceConfig(slug="web", name="Web", host="h1", unit="nginx.service"),
                ServiceConfig(slug="backup", name="Backup", host="h1", unit="backup.service",
                              timer="backup.timer"),
                ServiceConfig(slug="other", name="Other", host="h2", unit="zz-broken.service")]
    managed = managed_units(services, "h1")
    assert managed == {"nginx.service": "web", "backup.service": "backup",
                       "backup.timer": "backup"}
    marked = {u["name"]: u for u in mark(UNITS, managed, "h1", admin=True)}
    assert marked["nginx.service"]["managed"] and marked["nginx.service"]["service_url"] == (
        "/services/web")
    assert marked["nginx.service"]["manage_url"] is None
    broken = marked["zz-broken.service"]
    assert not broken["managed"] and broken["service"] is None
    assert broken["manage_url"] == "/hosts/h1/manage?unit=zz-broken.service"
    # the root mount's name is not one recon.toml accepts: nothing to manage
    assert marked["-.mount"]["manage_url"] is None
    # only an admin is given the way to manage a unit
    assert all(u["manage_url"] is None for u in mark(UNITS, managed, "h1", admin=False))


@pytest.mark.parametrize("record, ok", [
    (unit("nginx.service"), True),
    (unit("getty@.service"), False),  # a template
    (unit("getty@tty1.service"), True),
    (unit("home-recon\\x2ddemo.mount"), False),  # a backslash escape
    (unit("auditd.service", load="not-found"), False),
])
def test_which_units_could_become_services(record, ok):
    assert manageable(record) is ok
