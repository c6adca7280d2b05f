"""Parsing `systemctl show`: structured, tolerant of implementations that omit properties."""

from recon.config import HostConfig
from recon.ssh.systemctl import action_argv, parse_show, show_argv

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


CRASHED = """Id=flaky.service
LoadState=loaded
ActiveState=failed
SubState=failed
MainPID=0
Result=signal
ExecMainCode=2
ExecMainStatus=9
NRestarts=3
ActiveEnterTimestamp=@1795977228
InactiveEnterTimestamp=@1795977290
StateChangeTimestamp=@1795977290

Id=old.service
LoadState=masked
ActiveState=inactive
ActiveEnterTimestamp=Sun 2026-11-29 17:07:34 UTC
Result=exit-code
ExecMainCode=1
ExecMainStatus=3

Id=busy.service
LoadState=loaded
ActiveState=reloading
ActiveEnterTimestamp=Sun 2026-11-29 17:07:34 CET
ExecMainCode=0
"""


def test_real_systemd_fields_result_exit_and_iso_since():
    st = parse_show(CRASHED, ["flaky.service", "old.service", "busy.service"])
    flaky, old, busy = st["flaky.service"], st["old.service"], st["busy.service"]
    assert flaky["state"] == "failed" and flaky["result"] == "signal"
    assert flaky["exited_how"] == "killed" and flaky["exit_signal"] == "SIGKILL"
    assert flaky["exit_code"] is None and flaky["restarts"] == 3
    assert flaky["since"] == "2026-11-29T18:33:48Z" and flaky["since_epoch"] == 1795977228
    assert flaky["inactive_since"] == flaky["state_changed"] == "2026-11-29T18:34:50Z"
    assert old["masked"] and old["found"] and old["exit_code"] == 3 and old["exit_signal"] is None
    assert old["since"] == "2026-11-29T17:07:34Z"  # the text form, in UTC, is understood
    assert busy["transitioning"] and busy["exited_how"] is None
    assert busy["since"] == "Sun 2026-11-29 17:07:34 CET"  # another zone: kept as written


def test_never_ran_and_not_found_units_have_no_times():
    st = parse_show("Id=x.service\nLoadState=not-found\nActiveState=inactive\n"
                    "ActiveEnterTimestamp=\nExecMainCode=0\nInactiveEnterTimestamp=0\n",
                    ["x.service"])["x.service"]
    assert st["found"] is False and st["since"] is None and st["inactive_since"] is None
    assert st["result"] is None and st["exit_code"] is None


def test_show_asks_for_unix_timestamps_unless_the_host_refused_them(tmp_path):
    host = HostConfig(name="h", address="h", user="u", key_path=tmp_path)
    assert "--timestamp=unix" in show_argv(host, ["a.service"])
    assert "--timestamp=unix" not in show_argv(host, ["a.service"], unix_timestamps=False)


def test_a_host_whose_systemctl_refuses_unix_timestamps_is_asked_without_them(tmp_path):
    from recon.ssh import CommandResult
    from recon.ssh.systemctl import fetch_statuses

    class OldSystemd:  # systemd 247's systemctl, as far as `show` goes
        def __init__(self):
            self.calls = []

        def run(self, host, argv, **_options):
            self.calls.append(list(argv))
            if "--timestamp=unix" in argv:
                return CommandResult(tuple(argv), 1, "",
                                     "systemctl: unrecognized option '--timestamp=unix'\n", 3.0)
            return CommandResult(tuple(argv), 0, "Id=a.service\nActiveState=active\n"
                                 "ActiveEnterTimestamp=Mon 2026-11-23 01:00:00 UTC\n", "", 3.0)

    host = HostConfig(name="old", address="10.9.9.9", user="u", key_path=tmp_path)
    old = OldSystemd()
    st = fetch_statuses(old, host, ["a.service"])["a.service"]
    assert st["active"] and st["since"] == "2026-11-23T01:00:00Z"
    assert ["--timestamp=unix" in c for c in old.calls] == [True, False]
    fetch_statuses(old, host, ["a.service"])  # remembered: asked once, in the old form
    assert ["--timestamp=unix" in c for c in old.calls] == [True, False, False]
