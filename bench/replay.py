"""Replay of a 1-hour terminal recording in Chromium: from opening ``/recordings/<id>`` to
the player playing (target <= 1 s), and a seek to a random moment until the player shows it
(target <= 200 ms).

The recording is synthetic but shaped like a working hour: a prompt and a short command
every few seconds, its output (a few lines, colours), and now and then a burst (a log
dump of ~200 KB); written with RECON's own writer into the served instance's recordings
folder, one row in its database. Run alone: ``python -m bench --only replay --hosts 1``.
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import time

from recon import create_app
from recon.auth.accounts import create_user
from recon.db.extensions import db
from recon.recordings import cast, store
from recon.recordings.models import TerminalRecording

from .fleet import Fleet, Server
from .ui_first_paint import CHROMIUM, CHROMIUM_ARGS

HOUR = 3600.0
SESSION = "b" * 32
USER, PASSWORD = "bench-replay", "bench-replay-password"


def synthetic_hour(seed: int = 7) -> tuple[str, int]:
    """The cast's text: one hour, ~1,500 commands; returns (text, events)."""
    rnd = random.Random(seed)
    lines = [json.dumps({"version": 2, "width": 160, "height": 48, "timestamp": 1_700_000_000,
                         "title": "bench on host", "env": {"TERM": "xterm-256color"}})]
    t, n = 0.5, 0
    while t < HOUR:
        cmd = rnd.choice(["systemctl status demo-web", "ls -la /var/log", "df -h",
                          "journalctl -u demo-web -n 20", "uptime", "free -m"])
        lines.append(json.dumps([round(t, 6), "o", f"\x1b[32mbench@host\x1b[0m:~$ {cmd}\r\n"]))
        t += rnd.uniform(0.2, 1.0)
        rows = 200 * 40 if rnd.random() < 0.01 else rnd.randint(2, 12)  # a log dump
        for i in range(0, rows, 40):
            chunk = "".join(f"line {i + j} of {cmd}: \x1b[1mok\x1b[0m {rnd.random():.6f}\r\n"
                            for j in range(min(40, rows - i)))
            lines.append(json.dumps([round(t, 6), "o", chunk]))
            t += 0.01
            n += 1
        t += rnd.uniform(0.5, 4.0)
        n += 1
    lines.append(json.dumps([round(HOUR, 6), "o", "logout\r\n"]))
    return "\n".join(lines) + "\n", n + 1


def _install(srv: Server) -> dict:
    """Write the cast as a recording of the served instance; an admin who may replay it."""
    text, events = synthetic_hour()
    app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": str(srv.config),
                      "SQLALCHEMY_DATABASE_URI": srv.database})
    with app.app_context():
        path = store.folder() / (SESSION + cast.SUFFIX)
        with open(cast.open_private(path), "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=cast.COMPRESS_LEVEL) as gz:
                gz.write(text.encode())
        if db.session.get(TerminalRecording, SESSION) is None:
            db.session.add(TerminalRecording(
                id=SESSION, user="bench", host="host", file=path.name,
                started_at=time.time() - HOUR - 60, ended_at=time.time() - 60,
                bytes_recorded=len(text)))
            create_user(USER, PASSWORD, "admin")
            db.session.commit()
        size = path.stat().st_size
    return {"events": events, "cast_bytes": len(text.encode()), "file_bytes": size}


def _ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "max_ms": round(ordered[-1], 1), "n": len(ordered)}


SEEK = """async (t) => {
  const t0 = performance.now();
  await window.reconReplay.seekTo(t);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - t0, window.reconReplay.player().getCurrentTime()];
}"""


def bench_replay(f: Fleet, srv: Server, opens: int = 5, seeks: int = 20) -> dict:
    """``opens`` loads of the replay page and ``seeks`` random seeks in Chromium."""
    from playwright.sync_api import sync_playwright

    shape = _install(srv)
    base = f"http://127.0.0.1:{srv.port}"
    rnd = random.Random(11)
    open_ms, seek_ms = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(f"{base}/login")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        for _ in range(opens):
            page.goto(f"{base}/recordings/{SESSION}")
            page.wait_for_selector("html[data-replay-playing]", timeout=30_000)
            open_ms.append(page.evaluate(
                "performance.getEntriesByName('recon:replay-playing')[0].startTime"))
        for _ in range(seeks):
            target = rnd.uniform(0, HOUR)
            took, at = page.evaluate(SEEK, target)
            assert abs(at - target) < 1.0, (at, target)
            seek_ms.append(took)
        browser.close()
    return {**shape, "open_to_playing_ms": _ms(open_ms), "seek_ms": _ms(seek_ms)}
