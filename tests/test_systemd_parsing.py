"""Parsing `systemctl show`: structured, tolerant of implementations that omit properties."""

from recon.config import HostConfig
from recon.systemd import action_argv, parse_show, show_argv

REAL = """Id=nginx.service
Description=A high performance web server
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
MainPID=812
ActiveEnterTimestamp=Mon 2026-11-23 01:00:00 UTC
ExecMainStatus=0
MemoryCurrent=18446744073709551615
NRestarts=2

Id=ghost.service
Description=ghost.service
LoadState=not-found
ActiveState=inactive
SubState=dead
UnitFileState=
MainPID=0
ActiveEnterTimestamp=
ExecMainStatus=0
MemoryCurrent=[not set]
NRestarts=0
"""


def test_blocks_map_to_units_in_the_order_asked():
    st = parse_show(REAL, ["nginx.service", "ghost.service"])
    assert st["nginx.service"]["active"] is True
    assert st["nginx.service"]["main_pid"] == 812
    assert st["nginx.service"]["restarts"] == 2
    assert st["nginx.service"]["memory_bytes"] is None
    assert st["ghost.service"]["load_state"] == "not-found"
    assert st["ghost.service"]["main_pid"] is None and st["ghost.service"]["active"] is False


def test_missing_properties_read_as_none():
    st = parse_show("Id=a.service\nActiveState=active\nMainPID=\n", ["a.service"])
    assert st["a.service"]["active"] and st["a.service"]["restarts"] is None
    assert st["a.service"]["since"] is None and st["a.service"]["main_pid"] is None


def test_alias_answer_falls_back_to_id_when_counts_differ():
    st = parse_show("Id=b.service\nActiveState=failed\n", ["a.service", "b.service"])
    assert st["b.service"]["state"] == "failed"
    assert st["a.service"]["state"] == "unknown"


def test_commands_are_argv_from_config_with_sudo_n(tmp_path):
    host = HostConfig(name="h", address="h", user="u", key_path=tmp_path,
                      systemctl="/opt/bin/systemctl")
    assert action_argv(host, "restart", "a.service") == [
        "/usr/bin/sudo", "-n", "/opt/bin/systemctl", "restart", "a.service"]
    assert show_argv(host, ["a.service"])[:2] == ["/opt/bin/systemctl", "show"]
