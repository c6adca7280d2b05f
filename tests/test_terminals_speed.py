"""The issue's speed bars, measured with the stand-in against the real SSH target:
create → first output byte through the proxy (median < 300 ms), and ``cat`` of 10 MB
through the proxy within 2x of connecting to ttyd's socket directly."""

from __future__ import annotations

import statistics
import time

import pytest

pytest.register_assert_rewrite("terminal_fixtures")
from terminal_fixtures import TtyClient, attach, basic, open_terminal  # noqa: E402

from recon.terminals import manager  # noqa: E402

pytest_plugins = ["terminal_fixtures"]
TEN_MB = 10 * 1024 * 1024


def first_output(client: TtyClient, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not client.output:
        assert time.monotonic() < deadline and client.pump(0.5), "no output"


def test_create_to_first_output_byte_median_is_under_300_ms(live, term_app):
    token = term_app.config["TEST_TOKENS"]["operator"]
    first, prompt = [], []
    for _ in range(20):
        started = time.monotonic()
        sess = open_terminal(live, token)
        client = attach(live, token, sess)
        first_output(client)
        first.append(time.monotonic() - started)
        client.read_until(b"$ ")  # the remote shell's prompt: ssh's handshake is done
        prompt.append(time.monotonic() - started)
        assert client.output.startswith(b"[RECON] connecting to demo (recon-demo@127.0.0.1:")
        client.close()
        assert live.request("DELETE", f"/api/terminals/{sess['id']}", token)[0] == 200
    ms = {k: [round(x * 1000) for x in sorted(v)] for k, v in
          {"first byte": first, "remote prompt": prompt}.items()}
    for name, values in ms.items():
        print(f"create -> {name}: median {statistics.median(values):.0f} ms "
              f"(min {values[0]}, max {values[-1]})")
    assert statistics.median(first) < 0.300


def cat_ten_mb(client: TtyClient) -> float:
    client.read_until(b"$ ")
    client.output.clear()
    started = time.monotonic()
    client.send_input(f"head -c {TEN_MB} /dev/zero | tr '\\0' x; echo; echo done-$((6*7))\r")
    client.read_until(b"done-42", timeout=60)
    elapsed = time.monotonic() - started
    assert client.output.count(b"x") >= TEN_MB
    client.close()
    return elapsed


def test_ten_mb_through_the_proxy_is_within_2x_of_direct(live, term_app):
    token = term_app.config["TEST_TOKENS"]["operator"]
    sess = open_terminal(live, token)
    with term_app.app_context():
        row = manager.get(sess["id"])
        cred, sock = manager.credential(row.id), row.socket_path

    def direct() -> float:
        client = TtyClient.connect(f"unix://{sock}#/terminals/{row.id}/tty/ws",
                                   headers={"Authorization": basic(cred)}, origin=None)
        client.hello(basic(cred).split()[1])
        return cat_ten_mb(client)

    def proxied() -> float:
        return cat_ten_mb(attach(live, token, sess))

    runs = {"direct": [], "proxy": []}
    for _ in range(2):
        runs["direct"].append(direct())
        runs["proxy"].append(proxied())
    best = {k: min(v) for k, v in runs.items()}
    print(f"10 MB: direct {best['direct']:.2f} s, via proxy {best['proxy']:.2f} s "
          f"({best['proxy'] / best['direct']:.2f}x)")
    assert best["proxy"] <= 2 * best["direct"]
