"""Reading every unit of a host: the one remote command, and its output parsed into records --
real output captured from Debian 12 (systemd 252), as JSON and as the plain table an older
systemctl prints."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from recon.config import HostConfig
from recon.hosts.units import FIELDS, SEPARATOR, list_argv, parse

DATA = Path(__file__).parent / "data"


def real(kind: str) -> str:
    return (DATA / f"debian12-{kind}.out").read_text()


def by_name(units):
    return {u["name"]: u for u in units}


def test_the_listing_is_one_unprivileged_command_of_quoted_argv_lists():
    host = HostConfig(name="h", address="10.0.0.5", user="recon", key_path=Path("/k"),
                      systemctl="/usr/bin/systemctl")
    argv = list_argv(host)
    assert argv[:2] == ["sh", "-c"] and len(argv) == 3
    first, second = argv[2].split(f"; echo {SEPARATOR}; ")
    assert shlex.split(first)[:3] == ["/usr/bin/systemctl", "list-units", "--all"]
    assert shlex.split(second)[:2] == ["/usr/bin/systemctl", "list-unit-files"]
    assert "--output=json" in shlex.split(first) and "sudo" not in argv[2]


@pytest.mark.parametrize("kind", ["json", "plain"])
def test_real_output_becomes_one_record_per_unit(kind):
    units = by_name(parse(real(kind)))
    assert len(units) > 200
    web = units["demo-web.service"]
    assert web == {"name": "demo-web.service", "type": "service", "load": "loaded",
                   "active": "active", "sub": "running", "file_state": "enabled",
                   "preset": "enabled", "description": "Demo web server"}
    assert units["hp-broken.service"]["active"] == "failed"
    assert units["hp-broken.service"]["file_state"] == "transient"
    assert units["demo-backup.timer"]["type"] == "timer"
    assert units["demo-backup.service"]["file_state"] == "static"
    # referenced but absent: listed as systemd lists it
    assert units["auditd.service"]["load"] == "not-found"
    # installed, never loaded: inactive, no load state, its file state known
    assert units["getty@.service"]["load"] is None
    assert units["getty@.service"]["active"] == "inactive"
    # an alias is its unit's other name, not a unit of its own
    assert "sshd.service" not in units and "ssh.service" in units
    # a unit without a unit file (the root mount)
    assert units["-.mount"]["file_state"] is None
    assert all(tuple(u) == FIELDS for u in units.values())


def test_json_and_plain_output_give_the_same_records():
    json_units, plain_units = by_name(parse(real("json"))), by_name(parse(real("plain")))
    assert json_units.keys() == plain_units.keys()
    for name, unit in json_units.items():
        # the plain table pads the description column; the states are the same words
        assert {k: v for k, v in unit.items() if k != "description"} == {
            k: v for k, v in plain_units[name].items() if k != "description"}, name


@pytest.mark.parametrize("text, why", [
    ("", "no unit-files part"),
    (f"{SEPARATOR}\n[]\n", "listed no units"),
    ('[{"unit":"a.service","load":"loaded","active":"active","sub":"running"}]\n'
     f"{SEPARATOR}\n", "listed no unit files"),
    (f"[{{]\n{SEPARATOR}\n[]\n", "unreadable"),
    ("Failed to connect to bus: No such file or directory\n", "no unit-files part"),
])
def test_output_that_is_not_the_listing_is_refused(text, why):
    with pytest.raises(ValueError, match=why):
        parse(text)
