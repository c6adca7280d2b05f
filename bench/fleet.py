"""The benchmark fleet: N real SSH targets with M demo units each, and RECON served over
real HTTP (werkzeug's threaded server) against them."""

from __future__ import annotations

import http.client
import json
import logging
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import make_server

from recon import create_app
from recon.auth.accounts import create_token
from recon.demo.files import UnitSpec
from recon.demo.host import Host
from recon.demo.info import TargetInfo
from recon.demo.nspawn import Testbed
from recon.demo.recon_config import demo_config_toml


@dataclass
class Fleet:
    targets: list[Host]
    infos: list[TargetInfo]
    known_hosts: Path
    workdir: Path


@contextmanager
def fleet(hosts: int = 5, units: int = 10) -> Iterator[Fleet]:
    """Start ``hosts`` targets with ``units`` units each; stop them all afterwards."""
    work = Path(tempfile.mkdtemp(prefix="recon-bench-"))
    specs = [UnitSpec(f"svc{i:02d}.service", f"Bench service {i}", interval=2.0)
             for i in range(units)]
    bed = Testbed([f"bench{h}" for h in range(hosts)], units=specs, extra_units=(), log=print)
    try:
        targets = bed.start()
        infos = [t.info for t in targets]
        kh = work / "known_hosts"
        kh.write_text("".join(i.host_key_line.strip() + "\n" for i in infos))
        yield Fleet(targets, infos, kh, work)
    finally:
        bed.stop()


class Client:
    """A keep-alive HTTP client with a bearer token (one per thread)."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, path: str) -> tuple[int, dict]:
        self.conn.request(method, path, headers=self.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if body else {}

    def close(self) -> None:
        self.conn.close()


@dataclass
class Server:
    app: object
    port: int
    token: str

    def client(self) -> Client:
        return Client(self.port, self.token)


def build_app(f: Fleet, name: str, **config):
    """A RECON app for the fleet in its own folder; returns (app, admin token)."""
    sub = f.workdir / name
    sub.mkdir()
    path = sub / "recon.toml"
    path.write_text(demo_config_toml(f.infos, known_hosts=f.known_hosts, **config))
    app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": str(path),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{sub / 'recon.db'}"})
    with app.app_context():
        _, token = create_token("bench", "admin")
    return app, token


@contextmanager
def serve(f: Fleet, name: str, **config) -> Iterator[Server]:
    """RECON for the fleet on a free loopback port, in a thread."""
    app, token = build_app(f, name, **config)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(app, server.server_port, token)
    finally:
        server.shutdown()
        app.extensions["recon"].executor.close_all()
