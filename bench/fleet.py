"""The benchmark fleet: real hosts (systemd in nspawn) with 10 units each, RECON configs for
them, and RECON served exactly as ``make run`` serves it (``python -m recon.entry.serve``:
gunicorn, gthread, 2 workers, 64 threads) in a subprocess."""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from recon import create_app
from recon.auth.accounts import create_token, create_user
from recon.demo import procs
from recon.demo.files import DEFAULT_UNITS, UnitSpec
from recon.demo.host import Host
from recon.demo.info import TargetInfo
from recon.demo.nspawn import Testbed, free_port
from recon.demo.recon_config import demo_config_toml
from recon.web.context import runtime

ROOT = Path(__file__).resolve().parent.parent
#: The unit whose journal really holds > 5000 lines: its ExecStartPre prints 6000 at start
#: (journald's default rate limit is 10000 per 30 s per unit, so all of them are kept).
CHATTY = "bench-chatty.service"
BENCH_UNITS = (*DEFAULT_UNITS,
               UnitSpec(CHATTY, "Bench service with a long journal", interval=5.0,
                        extra=('ExecStartPre=/usr/bin/seq -f "chatty: journal line %%g" 6000',)),
               *(UnitSpec(f"bench-{i}.service", f"Bench service {i}", interval=5.0)
                 for i in range(5)))


@dataclass
class Fleet:
    hosts: list[Host]  # the healthy ones
    hung: Host  # a real host whose sshd gets SIGSTOPped in the fault rows
    known_hosts: Path
    workdir: Path

    @property
    def infos(self) -> list[TargetInfo]:
        return [h.info for h in self.hosts]


@contextmanager
def fleet(hosts: int = 5) -> Iterator[Fleet]:
    """``hosts`` healthy real hosts plus one to hang, 10 units each; stopped afterwards."""
    work = Path(tempfile.mkdtemp(prefix="recon-bench-"))
    bed = Testbed([*(f"bench{h}" for h in range(hosts)), "hung"], units=BENCH_UNITS,
                  extra_units=(), log=print)
    try:
        booted = bed.start()
        kh = work / "known_hosts"
        kh.write_text("".join(h.info.host_key_line.strip() + "\n" for h in booted))
        yield Fleet(booted[:-1], booted[-1], kh, work)
    finally:
        bed.stop()
        shutil.rmtree(work, ignore_errors=True)


def fake_target(template: TargetInfo, name: str, port: int) -> TargetInfo:
    """A config entry for a tarpit on 127.0.0.1:port (it never gets as far as a host key)."""
    return dataclasses.replace(template, name=name, address="127.0.0.1", port=port)


def renamed_copies(info: TargetInfo, copies: int, keydir: Path) -> list[TargetInfo]:
    """``copies`` config entries for one real host, each with its own copy of the key, so
    RECON keeps a separate connection (and supervisor) per entry."""
    out = []
    for i in range(copies):
        key = keydir / f"{info.name}-{i}"
        shutil.copyfile(info.key_path, key)
        key.chmod(0o600)
        out.append(dataclasses.replace(info, name=f"{info.name}x{i}", key_path=key))
    return out


class Client:
    """A keep-alive HTTP client with a bearer token (one per thread)."""

    def __init__(self, port: int, token: str, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, path: str) -> tuple[int, dict]:
        self.conn.request(method, path, headers=self.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        ctype = resp.getheader("Content-Type", "")
        return resp.status, json.loads(body) if body and "json" in ctype else {}

    def close(self) -> None:
        self.conn.close()


@dataclass
class Server:
    """One ``python -m recon.entry.serve`` process group and what a client needs."""

    proc: subprocess.Popen
    port: int
    token: str
    config: Path
    database: str

    def client(self, timeout: float = 60) -> Client:
        return Client(self.port, self.token, timeout)

    def pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        return [self.proc.pid, *procs.descendants(self.proc.pid)]

    def wait_ready(self, hosts: int, timeout: float = 60) -> dict:
        """Until the monitor published every host (``up`` or ``down``) and every service
        of the hosts that are up; returns the last ``GET /api/services``."""
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            try:
                c = self.client(5)
                status, body = c.request("GET", "/api/services")
                c.close()
            except OSError:
                time.sleep(0.2)
                continue
            up = {h["name"] for h in body.get("hosts", ()) if h["state"] == "up"}
            decided = sum(h["state"] in ("up", "down") for h in body.get("hosts", ()))
            if status == 200 and decided == hosts and not any(
                    s.get("pending") for s in body["services"] if s["host"] in up):
                return body
            time.sleep(0.2)
        raise TimeoutError(f"RECON not ready: {json.dumps(body)[:500]}")


def write_config(workdir: Path, name: str, targets: list[TargetInfo], known_hosts: Path,
                 database: str | None = None, **settings) -> tuple[Path, str, str]:
    """recon.toml + database (``database``: a URI, default SQLite beside the file) with an
    admin token (and a viewer login for the browser)."""
    sub = workdir / name
    sub.mkdir()
    path = sub / "recon.toml"
    text = demo_config_toml(targets, known_hosts=known_hosts)
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
    path.write_text(text.replace("[settings]\n", "[settings]\n" + extra, 1))
    uri = database or f"sqlite:///{sub / 'recon.db'}"
    app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": str(path),
                      "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        _, token = create_token("bench", "admin")
        create_user("bench-ui", "bench-ui-password", "viewer")
    runtime(app).executor.close_all()
    return path, uri, token


@contextmanager
def serve(workdir: Path, name: str, targets: list[TargetInfo], known_hosts: Path,
          env: dict[str, str] | None = None, database: str | None = None,
          **settings) -> Iterator[Server]:
    """RECON as ``make run`` serves it, for ``targets`` (``env``: more process settings;
    ``database``: its URI, default SQLite); waits for the monitor's first round."""
    path, uri, token = write_config(workdir, name, targets, known_hosts, database, **settings)
    with launched(path, uri, token, env) as srv:
        srv.wait_ready(len({t.name for t in targets}))
        yield srv


@contextmanager
def launched(path: Path, uri: str, token: str, env: dict[str, str] | None = None,
             log_name: str = "serve.log") -> Iterator[Server]:
    """``python -m recon.entry.serve`` for a written config (a second replica of the same
    config and database is a second call); its process group is ended afterwards."""
    port = free_port()
    env = {**os.environ, "RECON_CONFIG": str(path), "RECON_DATABASE_URI": uri,
           "RECON_SECRET_KEY": "bench", "PYTHONUNBUFFERED": "1", **(env or {})}
    log = open(path.parent / log_name, "wb")  # noqa: SIM115 - handed to the child
    with log:
        proc = subprocess.Popen([sys.executable, "-m", "recon.entry.serve", "--bind",
                                 f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield Server(proc, port, token, path, uri)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
