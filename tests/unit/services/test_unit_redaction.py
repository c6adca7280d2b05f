"""The redaction of a unit's detail view (recon.services.redact): environment values, command
arguments and credentials hidden in ``systemctl cat``, ``show`` and ``status`` text; the rest
left as the host wrote it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from recon.services.redact import (
    HIDDEN,
    assignments,
    redact_file,
    redact_properties,
    redact_status,
)

CAT = """\
# /usr/local/lib/systemd/system/app.service
[Unit]
Description=App = the thing
After=network.target

[Service]
Environment=DB_PASSWORD=hunter2 "GREETING=hello world"
Environment = API_KEY=s3cr3t
EnvironmentFile=/etc/app/env
ExecStartPre=/usr/bin/app migrate --password hunter2
ExecStart=-/usr/bin/app \\
    --token s3cr3t \\
    --port 8080
ExecReload=/bin/kill -HUP $MAINPID
ExecStop=/usr/bin/app-stop
SetCredential=db:hunter2 with spaces
LoadCredential=tls:/etc/app/key.pem
StandardInputText=hunter2
#Environment=OLD_PASSWORD=hunter1
UnsetEnvironment=HOME LEAK=hunter3
"""


def test_a_unit_file_keeps_names_and_programs_and_hides_values_and_arguments():
    out = redact_file(CAT)
    for secret in ("hunter", "s3cr3t", "hello world", "8080", "key.pem", "$MAINPID"):
        assert secret not in out, secret
    lines = out.splitlines()
    assert 'Environment=DB_PASSWORD=(hidden) GREETING=(hidden)' in lines
    assert "Environment = API_KEY=(hidden)" in lines  # the file's spacing kept
    assert "ExecStartPre=/usr/bin/app (arguments hidden)" in lines
    assert "ExecStart=-/usr/bin/app (arguments hidden)" in lines  # continued lines: one line
    assert "ExecReload=/bin/kill (arguments hidden)" in lines
    assert "ExecStop=/usr/bin/app-stop" in lines  # no arguments: nothing to hide
    assert "SetCredential=db:(hidden)" in lines and "LoadCredential=tls:(hidden)" in lines
    assert "StandardInputText=(hidden)" in lines
    assert "#Environment=OLD_PASSWORD=(hidden)" in lines  # commented out, still a secret
    assert "UnsetEnvironment=HOME LEAK=(hidden)" in lines
    # everything else is untouched, line for line
    for kept in ("# /usr/local/lib/systemd/system/app.service", "Description=App = the thing",
                 "After=network.target", "EnvironmentFile=/etc/app/env", "[Service]"):
        assert kept in lines
    assert len(lines) == len(CAT.splitlines()) - 2  # the two continuation lines joined


def test_what_cannot_be_parsed_is_hidden_whole():
    assert assignments('A=1 "B=unterminated') == HIDDEN
    assert assignments("not-a-name=1 OK=2") == f"{HIDDEN} OK={HIDDEN}"
    # an unquoted value with a space: its second word is no name of its own
    assert assignments("PASSWORD=correct horse") == f"PASSWORD={HIDDEN} {HIDDEN}"
    assert assignments("HOME X=1", bare_names=True) == f"HOME X={HIDDEN}"
    assert redact_file("Environment='X=1") == f"Environment={HIDDEN}"
    assert redact_file("Environment=") == "Environment="


SHOW = {
    "Id": "app.service",
    "MainPID": "87",
    "ExecMainPID": "87",
    "Environment": 'DB_PASSWORD=hunter2 "GREETING=hello world"',
    "ExecStartPre": "{ path=/usr/bin/app ; argv[]=/usr/bin/app migrate --password hunter2 ; "
                    "ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; "
                    "code=(null) ; status=0/0 } ; { path=/bin/true ; argv[]=/bin/true ; "
                    "ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; "
                    "code=(null) ; status=0/0 }",
    "ExecStartEx": "{ path=/usr/bin/app ; argv[]=/usr/bin/app --token s3cr3t ; "
                   "flags=ignore-failure ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; "
                   "code=(null) ; status=0/0 }",
    "ExecStop": "/usr/bin/app stop --token s3cr3t",  # a shape not known: hidden whole
    "SetCredential": "db:hunter2",
    "StandardInputData": "aHVudGVyMg==",
    "Description": "App",
}


def test_properties_hide_command_arguments_environment_and_credentials():
    out = redact_properties(SHOW)
    assert not [k for k, v in out.items() if "hunter2" in v or "s3cr3t" in v
                or "aHVudGVyMg" in v or "hello" in v]
    assert out["Environment"] == "DB_PASSWORD=(hidden) GREETING=(hidden)"
    assert out["ExecStartPre"].startswith(
        "{ path=/usr/bin/app ; argv[]=/usr/bin/app (arguments hidden) ; ignore_errors=no ;")
    assert "} ; { path=/bin/true ; argv[]=/bin/true ; ignore_errors=no" in out["ExecStartPre"]
    assert "argv[]=/usr/bin/app (arguments hidden) ; flags=ignore-failure" in out["ExecStartEx"]
    assert out["ExecStop"] == HIDDEN
    assert out["SetCredential"] == "db:(hidden)" and out["StandardInputData"] == HIDDEN
    for kept in ("Id", "MainPID", "ExecMainPID", "Description"):
        assert out[kept] == SHOW[kept]
    assert list(out) == list(SHOW)


STATUS = """\
● app.service - App
     Loaded: loaded (/usr/local/lib/systemd/system/app.service; enabled; preset: enabled)
    Drop-In: /run/systemd/system/app.service.d
             └─secret.conf
     Active: active (running) since Fri 2026-12-04 19:57:06 UTC; 47ms ago
    Process: 85 ExecStartPre=/usr/bin/app migrate --password hunter2 (code=exited, status=0/SUCCESS)
    Process: 86 ExecStartPre=/bin/true (code=exited, status=0/SUCCESS)
   Main PID: 87 (app)
      Tasks: 2 (limit: 1234)
     CGroup: /system.slice/app.service
             ├─87 /usr/bin/app --token s3cr3t
             │ └─90 sleep 15
             └─91 /usr/bin/lonely"""


def test_status_hides_the_arguments_of_processes():
    out = redact_status(STATUS).splitlines()
    assert not [line for line in out if "hunter2" in line or "s3cr3t" in line]
    assert ("    Process: 85 ExecStartPre=/usr/bin/app (arguments hidden) "
            "(code=exited, status=0/SUCCESS)") in out
    assert "             ├─87 /usr/bin/app (arguments hidden)" in out
    assert "             │ └─90 sleep (arguments hidden)" in out
    kept = [line for line in STATUS.splitlines() if "hunter2" not in line
            and "s3cr3t" not in line and "sleep" not in line]
    assert [line for line in out if line in kept] == kept  # the rest as it was


def test_ascii_trees_are_read_too():
    assert redact_status("  |-87 /usr/bin/app --token s3cr3t\n  `-91 /bin/sh -c x") == (
        "  |-87 /usr/bin/app (arguments hidden)\n  `-91 /bin/sh (arguments hidden)")


@given(name=st.from_regex(r"[A-Z_][A-Z0-9_]{0,15}", fullmatch=True),
       value=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))
def test_an_environment_line_shows_nothing_but_names(name, value):
    quoted = '"' + f"{name}={value}".replace("\\", "\\\\").replace('"', '\\"') + '"'
    # unquoted, a space would start another assignment (systemd reads it so): none here
    for assigned in (f"{name}={''.join(value.split())}", f"A=1 {quoted} B=2"):
        for shown in (redact_file(f"Environment={assigned}").removeprefix("Environment="),
                      redact_properties({"Environment": assigned})["Environment"]):
            words = shown.split()
            assert all(w == HIDDEN or w.endswith("=" + HIDDEN) for w in words), shown
            names = {w.removesuffix("=" + HIDDEN) for w in words} - {HIDDEN}
            assert names <= {name, "A", "B"}, shown
