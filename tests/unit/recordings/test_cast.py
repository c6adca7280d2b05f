"""The cast writer and the tap, without a terminal: what ttyd's frames become on disk, the
size cap's marker, flushing, a reconnect's second member, a crash's cut-short member, files
0600."""

from __future__ import annotations

import gzip
import json
import os
import stat

from recon.recordings import cast
from recon.recordings.cast import CastWriter
from recon.recordings.tap import Tap


def lines(path):
    return [json.loads(x) for x in cast.read_text(path).splitlines()]


def hello(tap, cols=100, rows=30):
    tap.message("down", json.dumps({"AuthToken": "x", "columns": cols, "rows": rows}), True)


def test_output_is_recorded_and_input_is_not_by_default(tmp_path):
    path = tmp_path / "s.cast.gz"
    tap = Tap(CastWriter(path, started=1000.0, max_bytes=0), "alice on demo", False)
    hello(tap)
    tap.message("up", b"1demo (title)", True)  # a title: not output
    tap.message("up", b"0$ ", True)
    tap.message("down", b"0s3cret-password\r", True)
    tap.message("down", b'1{"columns": 90, "rows": 20}', True)
    tap.message("up", b"0hello \xc3", False)  # a message in two pieces, a split character
    tap.message("up", b"\xa9 world\r\n", True)
    tap.close()
    head, *events = lines(path)
    assert head["version"] == 2 and (head["width"], head["height"]) == (100, 30)
    assert head["title"] == "alice on demo" and isinstance(head["timestamp"], int)
    assert [e[1:] for e in events] == [["o", "$ "], ["r", "90x20"], ["o", "hello "],
                                       ["o", "é world\r\n"]]
    assert "s3cret" not in cast.read_text(path)
    assert all(isinstance(e[0], float) for e in events)
    assert [e[0] for e in events] == sorted(e[0] for e in events)


def test_input_is_recorded_when_the_admin_turned_it_on(tmp_path):
    path = tmp_path / "s.cast.gz"
    tap = Tap(CastWriter(path, started=1000.0, max_bytes=0), "t", True)
    hello(tap)
    tap.message("down", b"0ls\r", True)
    tap.close()
    assert [e[1:] for e in lines(path)[1:]] == [["i", "ls\r"]]


def test_the_size_cap_writes_one_marker_and_then_nothing(tmp_path):
    path = tmp_path / "s.cast.gz"
    w = CastWriter(path, started=1000.0, max_bytes=100)
    tap = Tap(w, "t", False)
    hello(tap)
    for i in range(10):
        tap.message("up", b"0" + b"%d" % i * 30, True)
    tap.close()
    events = lines(path)[1:]
    # the output that still fits is kept, cut at the cap: how it was chunked does not matter
    assert [e[1] for e in events] == ["o", "o", "o", "o", "m"]
    assert events[3][2] == "3" * 10 and sum(len(e[2]) for e in events[:4]) == 100
    assert "size cap of 100 bytes" in events[-1][2] and w.capped and w.used == 100
    # the next WebSocket of the same session starts capped: nothing more
    w2 = CastWriter(path, started=1000.0, max_bytes=100, used=w.used + 30)
    assert w2.capped


def test_a_reconnect_appends_a_member_with_a_resize_not_a_second_header(tmp_path):
    path = tmp_path / "s.cast.gz"
    for n in range(2):
        tap = Tap(CastWriter(path, started=1000.0, max_bytes=0), "t", False)
        hello(tap, 80 + n, 24)
        tap.message("up", b"0round-%d\r\n" % n, True)
        tap.close()
    out = lines(path)
    assert out[0]["width"] == 80
    assert [e[1:] for e in out[1:]] == [["o", "round-0\r\n"], ["r", "81x24"],
                                        ["o", "round-1\r\n"]]
    with gzip.open(path, "rt") as f:  # any gzip reader reads the members as one
        assert f.read() == cast.read_text(path)


def test_a_crash_loses_at_most_what_came_since_the_last_flush(tmp_path):
    path = tmp_path / "s.cast.gz"
    w = CastWriter(path, started=1000.0, max_bytes=0)
    tap = Tap(w, "t", False)
    hello(tap)
    tap.message("up", b"0before-flush\r\n", True)
    w.flush()
    tap.message("up", b"0after-flush\r\n", True)
    # the process dies here: no close, no trailer; the file holds what the flush wrote
    text = cast.read_text(path)
    assert "before-flush" in text and text.endswith("\n")
    assert len(text.splitlines()) == 2
    w.close()


def test_files_are_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        w = CastWriter(tmp_path / "s.cast.gz", started=1.0, max_bytes=0)
        w.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "s.cast.gz").stat().st_mode) == 0o600


def test_a_flush_writes_to_the_file_only_once_a_second(tmp_path, monkeypatch):
    path = tmp_path / "s.cast.gz"
    w = CastWriter(path, started=1.0, max_bytes=0)
    w.header(80, 24, "t")
    clock = [100.0]
    monkeypatch.setattr(cast.time, "monotonic", lambda: clock[0])
    w._last_flush = 100.0
    flushes = []
    real = w.flush
    monkeypatch.setattr(w, "flush", lambda: (flushes.append(clock[0]), real()))
    for _ in range(50):
        w.data("o", b"x" * 100)
        w.tick()
        clock[0] += 0.05
    assert len(flushes) == 2  # at 101.0 and 102.0 (and not per frame)
    w.close()
