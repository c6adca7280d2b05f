"""Two RECON replicas on one PostgreSQL behind nginx, 200 hosts (issue 25): how the hosts
split between them, and the failover timeline when one dies (``kill -9`` of its whole process
group, as a lost machine) while a dashboard is open in Chromium through nginx.

Served as ``make run`` serves (``python -m recon.entry.serve``: gunicorn, 2 workers each),
nginx running ``deploy/nginx/recon-replicas.conf`` with only ports and upstream addresses
swapped, the 200 hosts being one real systemd container reached on 200 addresses
(:mod:`bench.scalehost`). Ten readers with their own tokens (so nginx spreads them over both)
read the fleet through nginx the whole time.

The timeline, each from the kill (wall clock, one machine): nginx answers the page's session
from the survivor; every host's lease is held by a survivor process; every host the dead
replica watched has been read again (its ``checked_at`` is newer than the kill); the page's
live stream is open again ("Live"); then units are changed on the hosts and the time until
the open page shows it is measured, as :mod:`bench.scaleui` does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from recon.demo.nspawn import Testbed

from .fleet import BENCH_UNITS, ROOT, Server, launched, write_config
from .scalehost import known_hosts, scale_host, targets
from .scaleui import UNIT, change_seen
from .ui_first_paint import CHROMIUM, CHROMIUM_ARGS, summary

sys.path.insert(0, str(ROOT / "tests" / "support"))
import pg_cluster  # noqa: E402  (test infrastructure: a cluster made for the run)
from nginx_server import REPLICAS, Nginx, replica_upstreams  # noqa: E402

READERS = 10
PROBES = 4  # real hosts of their own among the entries: a change on one host alone
ADMIN = ("bench-admin", "bench-admin-password")
# Every change of the page's freshness line ("Live" while its event stream is open), timed.
LIVE_LOG = """() => {
  const el = document.getElementById("updated");
  window.__liveLog = [[Date.now(), el.textContent]];
  new MutationObserver(() => window.__liveLog.push([Date.now(), el.textContent]))
    .observe(el, {childList: true, characterData: true, subtree: true});
}"""


def bench_replicas(out: dict, hosts: int = 200, changes: int = 6) -> None:
    """The split of ``hosts`` between two replicas, and the failover timeline, into ``out``
    as they are measured (a step that fails leaves the figures before it)."""
    work = Path(tempfile.mkdtemp(prefix="recon-bench-replicas-"))
    failed = True
    try:
        with scale_host() as sh, Testbed([f"probe{i}" for i in range(PROBES)],
                                         units=BENCH_UNITS, extra_units=()) as probes:
            entries = targets(sh, hosts - PROBES) + [p.info for p in probes]
            kh = known_hosts(work / "known_hosts", entries[:-PROBES], sh.key_line)
            with kh.open("a") as fh:
                fh.writelines(p.info.host_key_line.strip() + "\n" for p in probes)
            # One systemd stands in for all the hosts: their unit-list reads (one per host
            # per minute, each ~0.2 s of PID 1's CPU) would be 200 a minute on it, a load no
            # real host sees. Each entry is read once, at the start.
            path, uri, token = write_config(work, "replicas", entries, kh,
                                            pg_cluster.database_uri("replicas"),
                                            host_units_seconds=86400)
            tokens = _setup(path, uri)
            with launched(path, uri, token, log_name="a.log") as a, \
                    launched(path, uri, token, log_name="b.log") as b:
                a.wait_ready(hosts, timeout=180)
                (work / "nginx").mkdir()
                nginx = Nginx(work / "nginx", 0, conf=REPLICAS,
                              upstreams=replica_upstreams([a.port, b.port]))
                try:
                    _measure(out, probes, entries, {"a": a, "b": b}, nginx, tokens, changes)
                    failed = False
                finally:
                    nginx.stop()
    finally:
        pg_cluster.stop()
        if failed or os.environ.get("RECON_BENCH_KEEP"):
            print(f"replicas: the servers' and nginx's logs are kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _setup(path: Path, uri: str) -> list[str]:
    """An admin login for the page (it asks /api/config which process served it) and one
    viewer token per reader."""
    from recon import create_app
    from recon.auth.accounts import create_token, create_user
    from recon.web.context import runtime

    app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": str(path),
                      "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        create_user(ADMIN[0], ADMIN[1], "admin")
        tokens = [create_token(f"reader-{i}", "viewer")[1] for i in range(READERS)]
    runtime(app).executor.close_all()
    return tokens


class _Db:
    """Lease and host rows, read straight from PostgreSQL."""

    def __init__(self, uri: str):
        self.engine = sa.create_engine(uri, poolclass=sa.NullPool)

    def owners(self) -> dict[str, int]:
        """host -> pid of the process whose live lease watches it."""
        with self.engine.connect() as c:
            rows = c.execute(sa.text(
                "SELECT host, owner FROM host_lease WHERE expires_at > :now "
                "AND state = 'watching'"), {"now": time.time()}).all()
        return {h: int(o.split(":")[1]) for h, o in rows}

    def checked(self) -> dict[str, float]:
        with self.engine.connect() as c:
            return dict(c.execute(sa.text("SELECT name, checked_at FROM host_state")).all())


def _replica_of(pid: int, servers: dict[str, Server]) -> str | None:
    return next((n for n, s in servers.items() if pid in s.pids()), None)


def _split(db: _Db, servers: dict[str, Server], hosts: int, timeout: float = 120) -> dict:
    started = time.monotonic()
    owners: dict[str, int] = {}
    while time.monotonic() - started < timeout:
        owners = db.owners()
        if len(owners) == hosts:
            break
        time.sleep(0.5)
    by_replica = Counter(_replica_of(p, servers) for p in owners.values())
    by_process = Counter(owners.values())
    return {"hosts": hosts, "watched": len(owners),
            "per_replica": dict(by_replica), "per_process": sorted(by_process.values()),
            "all_watched_after_s": round(time.monotonic() - started, 1)}


class _Readers:
    """Readers of the fleet call through nginx, one token each; statuses by time."""

    def __init__(self, nginx: Nginx, tokens: list[str]):
        self.stop = threading.Event()
        self.results: list[tuple[float, int]] = []
        self.threads = [threading.Thread(target=self._run, args=(nginx, t), daemon=True)
                        for t in tokens]
        for t in self.threads:
            t.start()

    def _run(self, nginx: Nginx, token: str) -> None:
        while not self.stop.is_set():
            try:
                status, _, _ = nginx.request("GET", "/api/services?view=compact",
                                             headers={"Authorization": f"Bearer {token}"})
            except OSError:
                status = 0
            self.results.append((time.time(), status))
            time.sleep(0.2)

    def end(self, killed_at: float) -> dict:
        self.stop.set()
        for t in self.threads:
            t.join(30)
        after = [(t - killed_at, s) for t, s in self.results if t >= killed_at]
        return {"requests": len(self.results),
                "statuses": dict(Counter(s for _, s in self.results)),
                "not_200_after_kill": [(round(t, 2), s) for t, s in after if s != 200][:20]}


def _measure(out: dict, probes: list, entries, servers: dict[str, Server], nginx: Nginx,
             tokens: list[str], changes: int) -> None:
    from playwright.sync_api import sync_playwright

    db = _Db(next(iter(servers.values())).database)
    out["split"] = _split(db, servers, len(entries))
    owners = db.owners()
    names = [p.info.name for p in probes]
    # the victim: the replica watching most of the probe hosts (a change is made on one of
    # those after the kill); the page is opened until nginx gives it a session there
    victim = Counter(_replica_of(owners[n], servers) for n in names).most_common(1)[0][0]
    survivor = next(n for n in servers if n != victim)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, cookie, logins = _page_on(browser, nginx, servers, victim)
            moved = sorted(h for h, p in owners.items() if _replica_of(p, servers) == victim)
            survivors = set(servers[survivor].pids())
            readers = _Readers(nginx, tokens)
            time.sleep(2)
            killed_at = time.time()
            os.killpg(servers[victim].proc.pid, signal.SIGKILL)
            timeline = _timeline(db, nginx, cookie, page, killed_at, moved, survivors,
                                 len(entries))
            out["failover"] = {"victim": victim, "moved_hosts": len(moved),
                               "page_logins_to_land_on_victim": logins, **timeline}
            out["readers"] = readers.end(killed_at)
            moved_probes = [p for p in probes if p.info.name in moved]
            out["change_to_page"] = _changes(page, moved_probes, changes)
        finally:
            browser.close()


def _page_on(browser, nginx: Nginx, servers: dict[str, Server], want: str, tries: int = 12):
    """A dashboard in Chromium through nginx whose session nginx sends to replica ``want``
    (each login is a new session cookie, hashed anew): (page, cookie, logins it took)."""
    base = f"https://127.0.0.1:{nginx.https}"
    for attempt in range(1, tries + 1):
        ctx = browser.new_context(viewport={"width": 1400, "height": 900},
                                  ignore_https_errors=True)
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{base}/login")
        page.fill("#username", ADMIN[0])
        page.fill("#password", ADMIN[1])
        page.click("button[type=submit]")
        page.wait_for_selector("html[data-status-loaded]")
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
        if _replica_of(_served_by(nginx, cookie), servers) == want:
            page.wait_for_function("() => document.getElementById('updated')"
                                   ".textContent === 'Live'")
            page.evaluate(LIVE_LOG)
            return page, cookie, attempt
        ctx.close()
    raise RuntimeError(f"no session landed on replica {want} in {tries} logins")


def _served_by(nginx: Nginx, cookie: str) -> int:
    status, body, _ = nginx.request("GET", "/api/config", headers={"Cookie": cookie})
    assert status == 200, (status, body[:300])
    return int(json.loads(body)["pid"])


def _timeline(db: _Db, nginx: Nginx, cookie: str, page, killed_at: float, moved: list[str],
              survivors: set[int], hosts: int, cap: float = 60) -> dict:
    """Seconds from the kill to each step (None: not within ``cap``)."""
    marks: dict[str, float | None] = {"nginx_moved_page_s": None, "leases_all_s": None,
                                      "moved_hosts_read_again_s": None,
                                      "page_live_again_s": None}
    while time.time() - killed_at < cap and None in marks.values():
        now = time.time() - killed_at
        if marks["nginx_moved_page_s"] is None:
            try:
                if _served_by(nginx, cookie) in survivors:
                    marks["nginx_moved_page_s"] = round(time.time() - killed_at, 2)
            except (OSError, AssertionError):
                pass
        if marks["leases_all_s"] is None:
            owners = db.owners()
            if len(owners) == hosts and set(owners.values()) <= survivors:
                marks["leases_all_s"] = round(now, 2)
        if marks["moved_hosts_read_again_s"] is None:
            checked = db.checked()
            if all((checked.get(h) or 0) > killed_at for h in moved):
                marks["moved_hosts_read_again_s"] = round(now, 2)
        if marks["page_live_again_s"] is None:
            marks["page_live_again_s"] = _live_again(page.evaluate("() => window.__liveLog"),
                                                     killed_at)
        time.sleep(0.1)
    return marks


def _live_again(log: list, killed_at: float) -> float | None:
    """Seconds from the kill until the page's stream was open again: the first "Live"
    after it first said anything else (its stream dropped) past the kill."""
    dropped = False
    for at, text in log:
        if at / 1000 < killed_at:
            continue
        if text != "Live":
            dropped = True
        elif dropped:
            return round(at / 1000 - killed_at, 2)
    return None


def _changes(page, probes: list, changes: int) -> dict:
    """A unit stopped or started on ONE host the dead replica watched (a real host of its
    own) -> that row, or its host's summary, changing on the open page."""
    latencies, missed = [], 0
    if not probes:
        return {"n": 0, "missed_15s": 0, "changes": 0, "note": "no probe host had moved"}
    for i in range(changes):
        host = probes[i % len(probes)]
        start = (i // len(probes)) % 2 == 1  # each host: stopped, later started again
        slug = f"{host.info.name}-{UNIT.removesuffix('.service')}"
        action = "start" if start else "stop"
        took, lost = change_seen(page, [(slug, host.info.name)],
                                 lambda h=host, a=action: h.systemctl(a, UNIT), poll=0.02)
        latencies += took
        missed += lost
        time.sleep(1)
    for host in probes:
        host.systemctl("start", UNIT, check=False)
    return {**(summary(latencies) if latencies else {"n": 0}), "missed_15s": missed,
            "changes": changes, "hosts": [p.info.name for p in probes]}
