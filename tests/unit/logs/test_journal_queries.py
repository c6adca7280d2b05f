"""Journal queries without a target: parameter validation, argv shape, the sudoers regex,
and parsing of journalctl's json and short-iso lines."""

from __future__ import annotations

import re

import pytest

from recon.logs.journal import JournalModes, Reader
from recon.logs.parse import (
    ExportStream,
    parse_export,
    parse_json_line,
    parse_text,
    parse_text_line,
)
from recon.logs.query import (
    CURSOR_RE,
    OUTPUT_FIELDS,
    InvalidParameter,
    LogQuery,
    grep_pattern,
    parse_cursor,
    parse_grep,
    parse_lines,
    parse_priority,
    parse_time,
    sudoers_args_regex,
)
from recon.ssh import CommandResult

CURSOR = ("s=70536b4268564895bad3892e247b00c3;i=1ac;b=0c583325d28e4b1b8c61377f59bcb3c8;"
          "m=557158df;t=660e8128f3bd9;x=3054645266ba3dba")


@pytest.mark.parametrize("raw,expected", [
    ("-1h", "-1h"), ("-30min", "-30min"), ("-1h30min", "-1h30min"), ("-2days", "-2days"),
    ("today", "today"), ("yesterday", "yesterday"), ("now", "now"), ("@1795399185", "@1795399185"),
    ("2026-11-22", "2026-11-22"), ("2026-11-22 10:00", "2026-11-22 10:00"),
    ("2026-11-22T10:00:30", "2026-11-22 10:00:30"), ("10:00", "10:00"), (" -5m ", "-5m"),
])
def test_journalctl_time_forms_are_accepted_and_normalized(raw, expected):
    assert parse_time("since", raw) == expected


@pytest.mark.parametrize("raw", [
    "garbage", "1h", "-1 h", "-1h;reboot", "$(id)", "`id`", "2026-13-01", "2026-02-30 10:00",
    "2026-11-22 25:00", "24:61", "-", "--vacuum-size=1", "today now", "2026-11-22  10:00",
    "-1parsecs", "@", "-" + "1h" * 20,
])
def test_anything_else_is_refused_naming_the_parameter(raw):
    with pytest.raises(InvalidParameter) as exc:
        parse_time("until", raw)
    assert exc.value.parameter == "until" and "until" in exc.value.message


def test_priorities_lines_grep_and_cursor_are_checked():
    assert [parse_priority(p) for p in ("0", "err", "ERROR", "warning", "warn", "debug")] == [
        0, 3, 3, 4, 4, 7]
    for bad in ("8", "-1", "loud", "3;id", "err,info"):
        with pytest.raises(InvalidParameter):
            parse_priority(bad)
    assert parse_lines(None, 100, 5000) == 100 and parse_lines("5000", 100, 5000) == 5000
    for bad in ("0", "-1", "5001", "1e3", "abc", "99999999999", " 5"):
        with pytest.raises(InvalidParameter):
            parse_lines(bad, 100, 5000)
    assert parse_grep("a" * 200) == "a" * 200
    for bad in ("a" * 201, "line\nbreak", "tab\there", "nul\x00"):
        with pytest.raises(InvalidParameter):
            parse_grep(bad)
    assert CURSOR_RE.match(CURSOR) and not CURSOR_RE.match(CURSOR + ";x")
    with pytest.raises(InvalidParameter):
        parse_cursor(CURSOR + "\n")


def test_grep_becomes_one_space_free_literal_pattern():
    assert grep_pattern("$(touch /tmp/x)") == r"\$\(touch\x20/tmp/x\)"
    assert grep_pattern("-f --vacuum-size=1") == r"\-f\x20--vacuum-size=1"
    assert grep_pattern("a.b*[c]", for_argv=False) == r"a\.b\*\[c\]"
    assert grep_pattern("Fehler é", for_argv=False) == "Fehler é"  # capitals: case-sensitive


ALL_QUERIES = [
    LogQuery("demo-web.service", 100),
    LogQuery("demo-web.service", 5000, priority=3, since="-1h", until="now", grep="x y z"),
    LogQuery("demo-web.service", 1, since="2026-11-22 10:00:00", until="2026-11-22",
             grep="-rf $(id) | & ;", cursor=CURSOR),
    LogQuery("demo-web.service", 0, priority=0, grep="a", cursor=CURSOR, follow=True),
    LogQuery("demo-web.service", 10, since="10:00", follow=True),
]


@pytest.mark.parametrize("query", ALL_QUERIES)
@pytest.mark.parametrize("output", ["export", "json", "short-iso"])
def test_every_argv_recon_builds_matches_the_sudoers_regex(query, output):
    argv = query.argv("/usr/bin/journalctl", output)
    assert all(" " not in a for a in argv if not a.startswith(("--since=", "--until=")))
    # sudo matches the regex against the arguments joined by single spaces (POSIX ERE;
    # the constructs used here mean the same in Python's re).
    assert re.fullmatch(sudoers_args_regex("demo-web.service"), " ".join(argv[1:]))


@pytest.mark.parametrize("args", [
    "-u demo-web.service *",
    "-u demo-web.service --no-pager -o json -n 5 -u ssh.service",
    "-u ssh.service --no-pager -o short-iso -f -n 5",
    "-u demo-web.service --no-pager -o short-iso -n 5 --vacuum-size=1",
    "-u demo-web.service --no-pager -o short-iso -r -n 5 --rotate",
    "-u demo-web.service --no-pager -o export -n 5",
    "-u demo-web.service --no-pager -o export --output-fields=_CMDLINE -n 5",
    "-u demo-web.service --no-pager -o short-iso -n 5 -D /",
    "-u demo-web.service --no-pager -o short-iso -n 5 -g --vacuum-time=1s",
    "-u demo-web.service --no-pager -o short-iso -n 5 -g x --flush",
    "-u demo-webXservice --no-pager -o short-iso -n 5",
    "-u demo-web.service --no-pager -o short-iso -n 5 --since=-1h --merge",
])
def test_the_sudoers_regex_refuses_other_shapes(args):
    assert not re.fullmatch(sudoers_args_regex("demo-web.service"), args)


def test_reads_run_newest_first_and_show_an_equivalent_command():
    q = LogQuery("x.service", 100, priority=3, since="-1h", grep="conn refused")
    assert q.argv("/j") == [
        "/j", "-u", "x.service", "--no-pager", "-o", "export", f"--output-fields={OUTPUT_FIELDS}",
        "-r", "-n", "101", "-p", "3", "--since=-1h", "-g", r"conn\x20refused"]
    assert q.display("/usr/bin/journalctl", sudo=True) == (
        "sudo /usr/bin/journalctl -u x.service -r -n 100 -p err --since=-1h -g 'conn refused'")
    forward = LogQuery("x.service", 5, cursor=CURSOR)
    assert "-r" not in forward.argv("/j") and forward.argv("/j")[-1] == f"--after-cursor={CURSOR}"
    # journalctl 252 walks backwards from a cursor when -g and -n meet: no -n then.
    grepped = LogQuery("x.service", 5, cursor=CURSOR, grep="x")
    assert "-n" not in grepped.argv("/j") and grepped.display("/j", False).endswith("| head -n 5")


def test_json_lines_parse_binary_repeated_and_missing_fields():
    line = parse_json_line('{"__REALTIME_TIMESTAMP":"1795399185801416","PRIORITY":"3",'
                           '"_PID":"42","SYSLOG_IDENTIFIER":"web","MESSAGE":[104,105,255],'
                           f'"__CURSOR":"{CURSOR}"}}')
    assert line == {"ts": "2026-11-23T01:59:45.801416+00:00", "priority": 3, "pid": 42,
                    "ident": "web", "message": "hi\ufffd", "cursor": CURSOR}
    bare = parse_json_line('{"MESSAGE":null,"_COMM":"sh","_PID":["1","2"]}')
    assert bare["message"] == "[blob data]" and bare["ident"] == "sh" and bare["ts"] is None
    assert parse_json_line("sudo: a password is required") is None


def test_export_output_parses_text_and_binary_fields_in_any_chunking():
    text = (f"__CURSOR={CURSOR}\n__REALTIME_TIMESTAMP=1795399185000001\n"
            "PRIORITY=4\n_PID=9\nSYSLOG_IDENTIFIER=w\nMESSAGE=a=b\n\n").encode()
    raw = b"x\x1b[1m\n\nA=\xff"
    binary = (f"__CURSOR={CURSOR}\nPRIORITY=3\nMESSAGE\n".encode()
              + len(raw).to_bytes(8, "little") + raw + b"\n\n")
    data = text + binary + text
    whole = parse_export(data)
    assert whole[0] == {"ts": "2026-11-23T01:59:45.000001+00:00", "priority": 4, "pid": 9,
                        "ident": "w", "message": "a=b", "cursor": CURSOR}
    assert whole[1]["message"] == "x\x1b[1m\n\nA=\ufffd" and whole[1]["priority"] == 3
    assert whole[2] == whole[0] and len(whole) == 3
    for size in (1, 7, 64):
        stream = ExportStream()
        for i in range(0, len(data), size):
            stream.feed(data[i:i + size])
        assert stream.finish() == whole, size
    cut = ExportStream()
    cut.feed(data[:-5])  # an entry cut by the output cap is left out
    assert cut.finish() == whole[:2]
    foreign = ExportStream()
    foreign.feed(b"2026-11-23T02:08:07+0000 vm demo-web[1]: text\n")
    assert foreign.foreign and foreign.finish() == []


def test_short_iso_lines_parse_with_or_without_hostname():
    a = parse_text_line("2026-11-23T02:08:07+0000 vm demo-web[23825]: a: b")
    assert (a["ts"], a["ident"], a["pid"], a["message"]) == (
        "2026-11-23T02:08:07+00:00", "demo-web", 23825, "a: b")
    b = parse_text_line("2026-11-23T02:08:07+0000 kernel: oops")
    assert (b["ident"], b["pid"], b["message"]) == ("kernel", None, "oops")
    assert parse_text_line("-- No entries --") is None
    assert parse_text_line("free text")["message"] == "free text"


class OldJournalctl(Reader):
    """A host whose journalctl has no structured output (for the fallback logic only)."""

    calls: list[str] = []

    def run(self, host, query, output):
        self.calls.append(output)
        if output == "export":
            return CommandResult((), 1, "", "journalctl: invalid output mode", 1.0), []
        out = "2026-11-23T02:08:08+0000 h w[2]: second\n2026-11-23T02:08:07+0000 h w[1]: first\n"
        return CommandResult((), 0, "", "", 1.0), parse_text(out)


def test_a_host_without_json_output_falls_back_to_short_iso_and_is_remembered(tmp_path):
    from recon.config import HostConfig
    host = HostConfig(name="old", address="10.0.0.9", user="u", key_path=tmp_path / "k")
    modes = JournalModes()
    reader = OldJournalctl(None, modes)  # type: ignore[arg-type]
    lines, truncated, mode = reader.read(host, LogQuery("w.service", 10))
    assert mode == "text" and [ln["message"] for ln in lines] == ["first", "second"]
    assert not truncated and reader.calls == ["export", "short-iso"]
    reader.read(host, LogQuery("w.service", 10))
    assert reader.calls[2:] == ["short-iso"] and modes.get(host) == "text"


def test_a_cursor_supersedes_since_which_journalctl_refuses_alongside_it():
    resumed = LogQuery("demo-web.service", 10, since="-1h", cursor=CURSOR, follow=True)
    argv = resumed.argv("/usr/bin/journalctl")
    assert f"--after-cursor={CURSOR}" in argv
    assert not any(a.startswith("--since") for a in argv)
    fresh = LogQuery("demo-web.service", 10, since="-1h", follow=True)
    assert "--since=-1h" in fresh.argv("/usr/bin/journalctl")


def test_journal_fields_of_non_ascii_digits_are_dropped_not_a_crash():
    from recon.logs.parse import parse_export, parse_json

    export = ("__CURSOR=s=1\n__REALTIME_TIMESTAMP=1700000000000000\nPRIORITY=\u00b2\n"
              "_PID=\u0661\u0662\n"
              "MESSAGE=hello\n\n")
    (line,) = parse_export(export)
    assert line["priority"] is None and line["pid"] is None and line["message"] == "hello"
    (line,) = parse_json('{"__REALTIME_TIMESTAMP": "1700000000000000", "PRIORITY": "\u00b2", '
                         '"_PID": "7", "MESSAGE": "hi"}\n')
    assert line["priority"] is None and line["pid"] == 7
