"""Crash-loop tracking from consecutive reads (recon.monitor.crashloop): no host needed."""

from __future__ import annotations

from recon.monitor.crashloop import track

N, WINDOW = 3, 60.0


def _read(restarts: int, **extra) -> dict:
    return {"state": "active", "sub_state": "running", "restarts": restarts, "result": "success",
            "exit_code": None, "exit_signal": None, **extra}


def _walk(reads: list[tuple[float, dict]]) -> list[dict]:
    """Each read tracked from the one before, as the snapshot's writer does."""
    out, old = [], None
    for at, status in reads:
        track(old, status, at, restarts=N, window=WINDOW)
        out.append(status)
        old = status
    return out


def test_three_restarts_within_the_window_make_a_crash_loop_and_it_lasts_a_window_after_the_last():
    reads = _walk([(0, _read(0)), (10, _read(1)), (20, _read(2)), (30, _read(3)),
                   # the oldest restart leaves the window at 70, but the unit has been up only
                   # 45 s since its last restart: still looping
                   (75, _read(3)),
                   (91, _read(3))])
    assert [r["crash_looping"] for r in reads] == [False, False, False, True, True, False]
    assert reads[3]["crash"]["count"] == 3 and reads[3]["crash"]["since"].startswith("1970")
    assert reads[4]["crash"]["since"] == reads[3]["crash"]["since"]  # the loop's start kept


def test_restarts_spread_wider_than_the_window_are_no_loop():
    reads = _walk([(0, _read(0)), (10, _read(1)), (80, _read(2)), (150, _read(3))])
    assert not any(r["crash_looping"] for r in reads)


def test_several_restarts_between_two_reads_all_count():
    reads = _walk([(0, _read(5)), (5, _read(9))])
    assert [r["crash_looping"] for r in reads] == [False, True]


def test_the_first_read_of_a_unit_counts_no_restarts_it_cannot_date():
    (first,) = _walk([(0, _read(40))])
    assert first["crash_looping"] is False and "crash" not in first


def test_a_reset_by_hand_keeps_the_restarts_already_seen():
    reads = _walk([(0, _read(0)), (1, _read(1)), (2, _read(2)), (3, _read(0)), (4, _read(1))])
    assert reads[-1]["crash_looping"] is True


def test_the_last_failure_is_kept_once_the_unit_runs_again():
    reads = _walk([(0, _read(0)),
                   (1, _read(0, state="activating", sub_state="auto-restart", result="exit-code",
                             exit_code=1, state_changed="2026-01-01T10:00:00Z")),
                   (2, _read(1))])
    assert reads[-1]["crash"]["last_exit"] == {
        "at": "2026-01-01T10:00:00.000+00:00", "code": 1, "signal": None, "result": "exit-code"}
    killed = _walk([(0, _read(0)), (1, _read(0, result="signal", exit_signal="SIGKILL"))])
    assert killed[-1]["crash"]["last_exit"]["signal"] == "SIGKILL"


def test_a_unit_stopped_or_failed_for_good_is_no_longer_looping():
    reads = _walk([(0, _read(0)), (1, _read(1)), (2, _read(2)), (3, _read(3)),
                   (4, _read(3, state="failed", sub_state="failed"))])
    assert [r["crash_looping"] for r in reads[-2:]] == [True, False]


def test_a_loop_read_failed_on_its_way_to_the_next_restart_goes_on():
    """systemd before 254 shows "failed" for a moment between a crash and its restart; a
    read then must not end the loop (and start a new one at the next read)."""
    just = "1970-01-01T00:00:04Z"
    reads = _walk([(0, _read(0)), (1, _read(1)), (2, _read(2)), (3, _read(3)),
                   (4.2, _read(3, state="failed", sub_state="failed", state_changed=just)),
                   (5, _read(4)),
                   # failed and staying failed (the start limit): the loop has ended
                   (12, _read(4, state="failed", sub_state="failed",
                              state_changed="1970-01-01T00:00:06Z"))])
    assert [r["crash_looping"] for r in reads[3:]] == [True, True, True, False]
    assert reads[5]["crash"]["since"] == reads[3]["crash"]["since"]  # one loop, not two


def test_the_count_says_how_many_restarts_the_window_holds_not_just_the_threshold():
    reads = _walk([(0, _read(0)), (1, _read(1)), (2, _read(2)), (3, _read(3)), (4, _read(4)),
                   (5, _read(9))])
    assert reads[-1]["crash"]["count"] == 9
