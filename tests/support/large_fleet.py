"""A large generated fleet for the dashboard's tests: ``hosts`` x ``units`` services in a
recon.toml whose hosts are never contacted (no monitor runs), their statuses written straight
into the snapshot (``recon.monitor.snapshot``) as the monitor would publish them. The cheapest
honest stand-in for 1,000 real hosts: the page reads the same tables through the same routes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from pg_cluster import app_database_uri

from recon import create_app
from recon.db.extensions import db
from recon.monitor.snapshot import publish_statuses
from recon.web.context import runtime

UNITS = ("api", "web", "worker", "cron", "cache", "queue", "mail", "search", "metrics", "backup")


def host_name(i: int) -> str:
    return f"node{i:04d}"


def unit_name(j: int) -> str:
    return f"{UNITS[j % len(UNITS)]}{j // len(UNITS) or ''}.service"


def fleet_toml(key: Path, known_hosts: Path, hosts: int, units: int) -> str:
    lines = ["[settings]", f"known_hosts = {json.dumps(str(known_hosts))}", ""]
    for i in range(hosts):
        # TEST-NET-1: nothing answers there, and nothing tries (no monitor runs).
        lines += [f"[hosts.{host_name(i)}]", f'address = "192.0.2.{1 + i % 250}"',
                  'user = "recon"', f"key = {json.dumps(str(key))}", ""]
    for i in range(hosts):
        for j in range(units):
            unit = unit_name(j)
            stem = unit.removesuffix(".service")
            lines += ["[[services]]", f'slug = "{host_name(i)}-{stem}"',
                      f'name = "{stem.title()}"', f'host = "{host_name(i)}"',
                      f'unit = "{unit}"',
                      '"actions" = ["status", "start", "stop", "restart", "logs"]',
                      f'tags = ["{"batch" if stem.startswith("cron") else "prod"}"]', ""]
    return "\n".join(lines)


def status(unit: str, state: str = "active", pid: int = 1000) -> dict:
    """A unit's status as ``systemctl show`` parsing gives it."""
    active = state == "active"
    return {"unit": unit, "active": active, "state": state,
            "sub_state": {"active": "running", "failed": "failed"}.get(state, "dead"),
            "load_state": "loaded", "enabled": "enabled", "since": None,
            "main_pid": pid if active else None,
            "memory_bytes": 4096 * 1024 if active else None, "restarts": 0,
            "exit_status": 1 if state == "failed" else 0, "description": f"Generated {unit}",
            "result": "exit-code" if state == "failed" else "success",
            "exited_how": "exited" if state == "failed" else None,
            "exit_code": 1 if state == "failed" else None, "exit_signal": None,
            "inactive_since": None, "state_changed": None, "transitioning": False,
            "masked": False, "found": True}


def build_fleet_app(tmp_path: Path, key: Path, hosts: int, units: int) -> Flask:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    config = tmp_path / "recon.toml"
    config.write_text(fleet_toml(key, known_hosts, hosts, units))
    return create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                       "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})


def publish_host_units(app: Flask, host: str, states: dict[str, str] | None = None) -> None:
    """Publish every unit of ``host`` as running, but those named in ``states`` (unit -> state)."""
    publish_fleet(app, {host: states or {}})


def publish_fleet(app: Flask, hosts: dict[str, dict[str, str]]) -> None:
    """As the monitor's first round would: for each host, every unit running but those named
    (unit -> state). The test database is not synced to disk after each host's transaction."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(sa.text("PRAGMA synchronous=OFF"))
        by_host: dict[str, list] = {}
        for s in runtime().config.services.values():
            by_host.setdefault(s.host, []).append(s)
        for host, states in hosts.items():
            services = by_host[host]
            statuses = {s.unit: status(s.unit, states.get(s.unit, "active"), 1000 + k)
                        for k, s in enumerate(services)}
            publish_statuses(services, statuses, time.time(), events="poll")
