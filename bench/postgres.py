"""RECON on PostgreSQL vs on SQLite (issue 25): two servers for the same real hosts, served
as ``make run`` serves them, one on SQLite and one on a throwaway PostgreSQL cluster (the
tests' own, tests/support/pg_cluster.py); the fleet call and a single status read,
interleaved round by round, paired ratios reported."""

from __future__ import annotations

import sys
from pathlib import Path

from .fleet import Fleet, serve
from .stats import interleave, load, paired, stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
import pg_cluster  # noqa: E402  (test infrastructure: a cluster made for the run)


def bench_postgres(f: Fleet, n: int) -> dict:
    uri = pg_cluster.database_uri("bench")
    try:
        with serve(f.workdir, "on-sqlite", f.infos, f.known_hosts) as lite, \
                serve(f.workdir, "on-postgres", f.infos, f.known_hosts, database=uri) as pg:
            slug = f"{f.infos[0].name}-demo-web"
            clients = {"sqlite": lite.client(), "postgres": pg.client()}

            def get(which: str, path: str):
                def call() -> None:
                    code, _ = clients[which].request("GET", path)
                    assert code == 200, (which, path, code)
                return call
            runs = interleave({
                "fleet_sqlite": get("sqlite", "/api/services"),
                "fleet_postgres": get("postgres", "/api/services"),
                "status_sqlite": get("sqlite", f"/api/services/{slug}/status"),
                "status_postgres": get("postgres", f"/api/services/{slug}/status")}, n)
            before = load()
    finally:
        pg_cluster.stop()
    return {**{k: stats(v) for k, v in runs.items()},
            "paired_fleet": paired(runs["fleet_postgres"], runs["fleet_sqlite"]),
            "paired_status": paired(runs["status_postgres"], runs["status_sqlite"]),
            "services": len(f.infos) * len(f.infos[0].units), "load": before}
