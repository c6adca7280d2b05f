"""Terminal rows against real ttyd (``TTYD_PATH``; skipped without it): open -> first byte
and -> shell prompt through RECON's proxy, and a 10 MB ``cat`` through the proxy vs straight
to ttyd's UNIX socket (same session, same ttyd, same SSH login), with the session recorded
(the default) and with recording turned off."""

from __future__ import annotations

import json
import os
import time

from recon import create_app
from recon.terminals import manager

from .fleet import Fleet, Server
from .stats import stats
from .ttyws import Tty, basic

TEN_MB = 10 * 1024 * 1024
PROMPT = b"$ "


def _request(srv: Server, method: str, path: str, body: dict | None = None):
    c = srv.client()
    c.headers["Content-Type"] = "application/json"
    c.conn.request(method, path, body=json.dumps(body) if body else None, headers=c.headers)
    resp = c.conn.getresponse()
    raw = resp.read()
    c.close()
    return resp.status, json.loads(raw) if raw else {}


def _attach(srv: Server, sess: dict) -> Tty:
    status, tok = _request(srv, "GET", sess["url"] + "tty/token")
    assert status == 200, tok
    tty = Tty.via_proxy(srv.port, sess["url"] + "tty/ws", srv.token)
    tty.hello(tok["token"])
    return tty


# 10 MB of one letter (compresses to nothing) and 10 MB of real listing text (compresses
# ~6:1 and costs the recording's zlib real work): the recording's worst case.
CAT_X = f"head -c {TEN_MB} /dev/zero | tr '\\0' x"
CAT_TEXT = f"for i in 1 2 3 4 5 6 7 8; do ls -lR /usr; done 2>/dev/null | head -c {TEN_MB}"


def _cat(tty: Tty, frames: list[int], command: str = CAT_X) -> float:
    tty.read_until(PROMPT)
    tty.output.clear()
    t0 = time.monotonic()
    # the marker is computed by the shell, so the echo of the typed line does not match it
    tty.send_input(f"{command}; echo; echo done-$((6*7))\r")
    tty.read_until(b"done-42", timeout=120)
    elapsed = time.monotonic() - t0
    frames.append(tty.frames)
    tty.close()
    return elapsed


def _set_recording(srv: Server, on: bool) -> None:
    """Turn recording on or off in recon.toml and wait until every worker applied it."""
    from recon.demo import procs

    from .config_reload import _get, _is_worker, _wait_applied

    workers = {p for p in procs.descendants(srv.proc.pid) if _is_worker(p)}
    before = _get(srv.port, srv.token, "/api/config")[1]["revision"]
    line = "terminal_recording = false\n"
    text = srv.config.read_text().replace(line, "")
    if not on:
        text = text.replace("[settings]\n", "[settings]\n" + line, 1)
    srv.config.write_text(text)
    _wait_applied(srv, workers, before)


def bench_terminals(f: Fleet, srv: Server, n: int) -> dict:
    ttyd = os.environ.get("TTYD_PATH")
    if not ttyd:
        return {"skipped": "no TTYD_PATH (real ttyd 1.7 needed)"}
    host = f.infos[0].name
    first, prompt = [], []
    for _ in range(n):
        t0 = time.monotonic()
        status, body = _request(srv, "POST", "/api/terminals", {"host": host})
        assert status in (200, 201), body
        sess = body["session"]
        tty = _attach(srv, sess)
        while not tty.output:
            tty.pump(0.5)
        first.append((time.monotonic() - t0) * 1000)
        tty.read_until(PROMPT)
        prompt.append((time.monotonic() - t0) * 1000)
        tty.close()
        _request(srv, "DELETE", f"/api/terminals/{sess['id']}")
    status, body = _request(srv, "POST", "/api/terminals", {"host": host})
    sess = body["session"]
    app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": str(srv.config),
                      "SQLALCHEMY_DATABASE_URI": srv.database})
    with app.app_context():
        row = manager.get(sess["id"])
        cred, sock = manager.credential(row.id), row.socket_path

    def direct() -> float:
        # ttyd runs with --max-clients 1: the previous client may still be leaving
        deadline = time.monotonic() + 10
        while True:
            try:
                tty = Tty.direct(sock, f"/terminals/{sess['id']}/tty/ws", cred)
                break
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        tty.hello(basic(cred).split()[1])
        return _cat(tty, frames["direct"])

    # "proxy": recording on (the default); "proxy_unrecorded": terminal_recording = false,
    # applied live between the rounds (the relay reads the setting when it starts).
    runs: dict[str, list[float]] = {"direct": [], "proxy": [], "proxy_unrecorded": []}
    frames: dict[str, list[int]] = {k: [] for k in runs}
    for _ in range(3):  # interleaved
        runs["direct"].append(direct())
        time.sleep(0.5)
        runs["proxy"].append(_cat(_attach(srv, sess), frames["proxy"]))
        time.sleep(0.5)
        _set_recording(srv, False)
        runs["proxy_unrecorded"].append(_cat(_attach(srv, sess), frames["proxy_unrecorded"]))
        _set_recording(srv, True)
    text: dict[str, list[float]] = {"proxy": [], "proxy_unrecorded": []}
    for _ in range(3):  # the same, on text that makes the recording's compression work
        text["proxy"].append(_cat(_attach(srv, sess), [], CAT_TEXT))
        time.sleep(0.5)
        _set_recording(srv, False)
        text["proxy_unrecorded"].append(_cat(_attach(srv, sess), [], CAT_TEXT))
        _set_recording(srv, True)
    _request(srv, "DELETE", f"/api/terminals/{sess['id']}")
    status, listed = _request(srv, "GET", "/api/recordings")
    rec = next(r for r in listed["recordings"] if r["id"] == sess["id"])
    best = {k: round(min(v), 3) for k, v in runs.items()}
    return {"ttyd": f"real ttyd ({ttyd})", "create_to_first_byte_ms": stats(first),
            "create_to_prompt_ms": stats(prompt), "cat_10mb_seconds": best,
            "proxy_vs_direct": round(best["proxy"] / best["direct"], 2),
            "proxy_unrecorded_vs_direct": round(best["proxy_unrecorded"] / best["direct"], 2),
            "recorded_vs_unrecorded": round(best["proxy"] / best["proxy_unrecorded"], 2),
            "cat_10mb_text_seconds": {k: round(min(v), 3) for k, v in text.items()},
            "text_recorded_vs_unrecorded": round(min(text["proxy"])
                                                 / min(text["proxy_unrecorded"]), 2),
            "recording": {"bytes_recorded": rec["bytes_recorded"], "file_bytes": rec["size"]},
            # About as many messages either way: the proxy does not coalesce. Direct is the
            # slower one, likely because ttyd then writes straight into the single-threaded
            # Python client, while through the proxy a second process buffers in between.
            "output_messages_per_cat": {k: max(v) for k, v in frames.items()}}
