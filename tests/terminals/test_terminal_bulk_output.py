"""Bulk output through the terminal proxy arrives whole (its speed is measured by
`make bench`, not here: the brief keeps speed targets out of timed tests)."""

from __future__ import annotations

from terminal_fixtures import attach, open_terminal

TEN_MB = 10 * 1024 * 1024


def test_ten_mb_through_the_proxy_arrive_whole_and_the_first_bytes_name_the_host(live,
                                                                                 term_app,
                                                                                 target_info):
    token = term_app.config["TEST_TOKENS"]["operator"]
    client = attach(live, token, open_terminal(live, token))
    client.read_until(b"$ ")
    where = f"[RECON] connecting to demo (recon-demo-term@{target_info.address}:22)".encode()
    assert client.output.startswith(where)
    client.output.clear()
    client.send_input(f"head -c {TEN_MB} /dev/zero | tr '\\0' x; echo; echo done-$((6*7))\r")
    client.read_until(b"done-42", timeout=60)
    assert client.output.count(b"x") >= TEN_MB
    client.close()
