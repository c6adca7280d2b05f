"""``make run`` listens beyond loopback only when told to (issue 24, item 4): gunicorn's
threads wait for a request's headers with no deadline, so 300 slow clients stopped every
answer (bench/slowloris.py: 0 of 6 probes answered, all 300 still open after 25 s; through
deploy/nginx/recon.conf 50 of 50, each cut after 10-13 s). A non-loopback ``--bind`` is refused
with the way to put nginx in front, unless ``RECON_ALLOW_DIRECT_BIND=1``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import ROOT

from recon.entry.serve import ALLOW_DIRECT_BIND, direct_bind_refusal

LOOPBACK = ["127.0.0.1:8420", "127.3.4.5:9000", "localhost:8420", "[::1]:8420", "::1",
            "127.0.0.1", "unix:/run/recon.sock", "LOCALHOST:1"]
BEYOND = ["0.0.0.0:9000", "0.0.0.0", "[::]:8420", ":8420", "192.168.1.10:8420",
          "[2001:db8::1]:80", "example.org:8420", "fd://3", "10.0.0.1"]


@pytest.mark.parametrize("bind", LOOPBACK)
def test_loopback_and_a_unix_socket_are_served_without_asking(bind):
    assert direct_bind_refusal(bind, {}) is None


@pytest.mark.parametrize("bind", BEYOND)
def test_any_other_address_is_refused_saying_how_to_put_nginx_in_front(bind):
    message = direct_bind_refusal(bind, {})
    assert message is not None
    assert bind in message and "deploy/nginx/recon.conf" in message
    assert "127.0.0.1:8420" in message and f"{ALLOW_DIRECT_BIND}=1" in message
    assert "slow" in message  # says why


@pytest.mark.parametrize("bind", BEYOND)
def test_the_operator_may_opt_in_explicitly(bind):
    assert direct_bind_refusal(bind, {ALLOW_DIRECT_BIND: "1"}) is None
    for value in ("", "0", "no", "yes please"):
        assert direct_bind_refusal(bind, {ALLOW_DIRECT_BIND: value}) is not None


def test_make_run_refuses_before_starting_anything(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != ALLOW_DIRECT_BIND}
    env["RECON_CONFIG"] = str(tmp_path / "absent.toml")  # would fail later, if it got there
    out = subprocess.run([sys.executable, "-m", "recon.entry.serve", "--bind", "0.0.0.0:1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2
    assert "0.0.0.0:1" in out.stderr and "deploy/nginx/recon.conf" in out.stderr
    assert "Traceback" not in out.stderr and "absent.toml" not in out.stderr
