"""Long-lived responses cannot take the server (issue 24): under gunicorn as ``make run``
serves it (gthread, 2 workers x 64 threads), one viewer opening far more event streams than
there are threads gets its share and a 429 JSON refusal for the rest, as do many viewers past
the global cap, and past one worker's cap (below its threads) -- and meanwhile an admin's
``/healthz`` and ``/api/services`` are answered. Before the caps, 128 of such streams
answered, the rest queued, and every other request of every user waited behind them."""

from __future__ import annotations

from collections import Counter

from helpers import Gunicorn
from stream_clients import EVENTS, bearer, call, open_many
from terminal_fixtures import token_for

from recon.config import Settings

THREADS = 64  # per worker, as recon.entry.serve runs gunicorn
ANSWER_WITHIN = 10.0  # a bound on a wait, not a speed target


def _statuses(opened) -> Counter:
    return Counter(o.status for o in opened)


def _admin_still_served(port: int, admin: str) -> None:
    for _ in range(3):
        assert call(port, "GET", "/healthz", timeout=ANSWER_WITHIN)[0] == 200
        status, body = call(port, "GET", "/api/services", bearer(admin),
                            timeout=ANSWER_WITHIN)
        assert status == 200 and body["services"]


def _refusals_are_clear(opened) -> None:
    for o in opened:
        if o.status == 429:
            assert o.body["error"] == "too_many_streams", o.body
            assert o.body["message"] and o.body["hint"]


def test_one_viewer_opening_many_event_streams_gets_its_share_and_429s(make_app,
                                                                       target_info):
    app = make_app([target_info])
    greedy = token_for(app, "greedy", "viewer")
    admin = app.config["TEST_TOKENS"]["admin"]
    with Gunicorn(app, workers=2, threads=THREADS) as server:
        opened = open_many(server.port, EVENTS, [bearer(greedy)] * (2 * THREADS + 22))
        try:
            _admin_still_served(server.port, admin)
            statuses = _statuses(opened)
            assert statuses[200] == Settings.event_streams_per_user, statuses
            assert statuses[429] == len(opened) - statuses[200], statuses
            _refusals_are_clear(opened)
            assert {o.body["limit"] for o in opened if o.status == 429} == {
                "event_streams_per_user"}
        finally:
            for o in opened:
                o.close()


def test_many_viewers_together_stop_at_the_global_cap(make_app, target_info, monkeypatch):
    # Below one worker's cap, so the global cap is the one reached however gunicorn spreads
    # the connections over its workers (a burst often lands on one).
    cap = Settings.held_threads_per_process - 8
    monkeypatch.setenv("RECON_HELD_THREADS_MAX", str(cap))
    app = make_app([target_info])
    per_user = Settings.event_streams_per_user
    tokens = [token_for(app, f"viewer{i}", "viewer") for i in range(cap // per_user + 6)]
    admin = app.config["TEST_TOKENS"]["admin"]
    with Gunicorn(app, workers=2, threads=THREADS) as server:
        opened = open_many(server.port, EVENTS,
                           [bearer(t) for t in tokens for _ in range(per_user)])
        try:
            _admin_still_served(server.port, admin)
            statuses = _statuses(opened)
            assert statuses[200] == cap, statuses
            assert statuses[429] == len(opened) - statuses[200], statuses
            _refusals_are_clear(opened)
            assert {o.body["limit"] for o in opened if o.status == 429} == {
                "held_threads_max"}
        finally:
            for o in opened:
                o.close()


def test_one_worker_keeps_threads_free_whatever_the_global_cap(make_app, target_info,
                                                               monkeypatch):
    monkeypatch.setenv("RECON_HELD_THREADS_MAX", "1000")
    app = make_app([target_info])
    per_user = Settings.event_streams_per_user
    tokens = [token_for(app, f"viewer{i}", "viewer") for i in range(THREADS // per_user + 4)]
    admin = app.config["TEST_TOKENS"]["admin"]
    with Gunicorn(app, workers=1, threads=THREADS) as server:
        opened = open_many(server.port, EVENTS,
                           [bearer(t) for t in tokens for _ in range(per_user)])
        try:
            _admin_still_served(server.port, admin)
            statuses = _statuses(opened)
            assert statuses[200] == Settings.held_threads_per_process < THREADS, statuses
            assert statuses[429] == len(opened) - statuses[200], statuses
            _refusals_are_clear(opened)
            assert {o.body["limit"] for o in opened if o.status == 429} == {
                "held_threads_per_process"}
        finally:
            for o in opened:
                o.close()
