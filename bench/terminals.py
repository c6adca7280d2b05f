"""Terminal speed with the ttyd stand-in against a real SSH target: create -> first output
byte through RECON's proxy, and a 10 MB `cat` through the proxy vs straight to ttyd's socket."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .fleet import Fleet, build_app

TESTS = Path(__file__).resolve().parent.parent / "tests"
TEN_MB = 10 * 1024 * 1024


def _standin_env(work: Path) -> dict[str, str]:
    ttyd = work / "ttyd"
    ttyd.write_text(f'#!/bin/sh\nexec {sys.executable} -S {TESTS / "ttyd_standin.py"} '
                    '-P 5 "$@"\n')
    ttyd.chmod(0o755)
    return {"RECON_TTYD_PATH": str(ttyd), "RECON_TERMINAL_RUN_DIR": str(work / "run"),
            "RECON_TERMINAL_IDLE_SECONDS": "600"}


def _cat(client) -> float:
    client.read_until(b"$ ")
    client.output.clear()
    started = time.monotonic()
    # the marker is computed by the shell, so the echo of the typed line does not match it
    client.send_input(f"head -c {TEN_MB} /dev/zero | tr '\\0' x; echo; echo done-$((6*7))\r")
    client.read_until(b"done-42", timeout=60)
    elapsed = time.monotonic() - started
    client.close()
    return elapsed


def bench_terminals(f: Fleet, n: int, results: dict) -> None:
    """Adds ``results["terminals"]``."""
    sys.path.insert(0, str(TESTS))
    from terminal_fixtures import LiveServer, TtyClient, attach, basic, open_terminal

    from recon.terminals import manager

    work = Path(tempfile.mkdtemp(prefix="rt-"))  # short: a socket path holds 107 bytes
    saved = {k: os.environ.get(k) for k in _standin_env(work)}
    os.environ.update(_standin_env(work))
    try:
        app, token = build_app(f, "terminals")
        live = LiveServer(app)
        host = f.infos[0].name
        first, prompt = [], []
        try:
            for _ in range(n):
                started = time.monotonic()
                sess = open_terminal(live, token, host=host)
                client = attach(live, token, sess)
                while not client.output:
                    client.pump(0.5)
                first.append((time.monotonic() - started) * 1000)
                client.read_until(b"$ ")
                prompt.append((time.monotonic() - started) * 1000)
                client.close()
                live.request("DELETE", f"/api/terminals/{sess['id']}", token)
            sess = open_terminal(live, token, host=host)
            with app.app_context():
                row = manager.get(sess["id"])
                cred, sock = manager.credential(row.id), row.socket_path

            def direct() -> float:
                c = TtyClient.connect(f"unix://{sock}#/terminals/{row.id}/tty/ws",
                                      headers={"Authorization": basic(cred)}, origin=None)
                c.hello(basic(cred).split()[1])
                return _cat(c)

            runs = {"direct": [direct() for _ in range(2)],
                    "proxy": [_cat(attach(live, token, sess)) for _ in range(2)]}
        finally:
            with app.app_context():
                for s in manager.open_sessions():
                    manager.close(s.id, "shutdown")
            live.stop()
            app.extensions["recon"].executor.close_all()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)
    best = {k: round(min(v), 3) for k, v in runs.items()}
    results["terminals"] = {
        "create_to_first_byte_ms": {"median_ms": round(statistics.median(first), 1),
                                    "max_ms": round(max(first), 1), "n": n},
        "create_to_prompt_ms": {"median_ms": round(statistics.median(prompt), 1), "n": n},
        "cat_10mb_seconds": best,
        "proxy_vs_direct": round(best["proxy"] / best["direct"], 2),
    }
