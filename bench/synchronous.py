"""Rows that wait on a host: one status read, an action, a journal read. Each RECON request
is paired, round by round in shuffled order, with the floor (bare Paramiko on an open
transport) running the exact command string RECON sent -- taken from the host's own
command log -- and, for status, with the runbook's fresh ``ssh`` and ssh ControlMaster."""

from __future__ import annotations

import time

from recon import create_app
from recon.config import load_config
from recon.monitor import snapshot
from recon.ssh import Executor, HostKeyStore
from recon.ssh.systemctl import fetch_statuses, show_argv
from recon.web.context import runtime

from .fleet import CHATTY, Fleet, Server
from .floor import Floor, ssh_run, stop_master, wait_command
from .stats import interleave, load, paired, stats


def _only_unit(unit: str, verb: str):
    return lambda cmd: f" {verb} " in cmd and cmd.endswith(" " + unit) \
        and cmd.count(".service") == 1


def bench_status(f: Fleet, srv: Server, floor: Floor, n: int) -> dict:
    info, unit = f.infos[0], "demo-worker.service"
    slug = f"{info.name}-demo-worker"
    c = srv.client()
    status, body = c.request("GET", f"/api/services/{slug}/status?fresh=1")
    assert status == 200 and body["state"] == "active", body
    command = wait_command(f.hosts[0], _only_unit(unit, "show"))
    config = load_config(srv.config, env={})
    host = config.hosts[info.name]
    executor = Executor(HostKeyStore(f.known_hosts))
    timeout = config.settings.status_fresh_timeout
    control = f.workdir / "cm.sock"
    # What a fresh read writes to SQLite, timed alone: the same two publishes, same database.
    app = create_app({"SECRET_KEY": "bench", "RECON_CONFIG": str(srv.config),
                      "SQLALCHEMY_DATABASE_URI": srv.database})
    service = config.services[slug]
    seen = fetch_statuses(executor, host, [unit], timeout=timeout)

    def publish():
        with app.app_context():
            snapshot.publish_statuses([service], seen, time.time())
            snapshot.publish_host(info.name, None)

    fns = {
        "recon_fresh": lambda: c.request("GET", f"/api/services/{slug}/status?fresh=1"),
        "recon_snapshot": lambda: c.request("GET", f"/api/services/{slug}/status"),
        "healthz": lambda: c.request("GET", "/healthz"),
        "static_file": lambda: c.request("GET", "/static/favicon.svg"),
        "recon_executor_in_process": lambda: executor.run(host, show_argv(host, [unit]),
                                                          timeout=timeout),
        "publish_in_process": publish,
        "floor": lambda: floor.run(info.name, command),
        "ssh_controlmaster": lambda: ssh_run(info, f.known_hosts, command, control),
        "runbook_fresh_ssh": lambda: ssh_run(info, f.known_hosts, command),
    }
    before = load()
    t = interleave(fns, n, every={"runbook_fresh_ssh": 2})
    stop_master(info, control)
    executor.close_all()
    runtime(app).executor.close_all()
    c.close()
    return {"command": command, "load": f"{before} -> {load()}",
            **{k: stats(v) for k, v in t.items()},
            "paired_fresh_vs_floor": paired(t["recon_fresh"], t["floor"]),
            "paired_runbook_vs_fresh": paired(t["runbook_fresh_ssh"], t["recon_fresh"][::2]),
            "paired_controlmaster_vs_fresh": paired(t["ssh_controlmaster"], t["recon_fresh"]),
            "paired_executor_vs_floor": paired(t["recon_executor_in_process"], t["floor"]),
            "paired_fresh_vs_snapshot": paired(t["recon_fresh"], t["recon_snapshot"]),
            "paired_snapshot_vs_static": paired(t["recon_snapshot"], t["static_file"]),
            "paired_healthz_vs_static": paired(t["healthz"], t["static_file"])}


def bench_action(f: Fleet, srv: Server, floor: Floor, n: int) -> dict:
    target, unit = f.hosts[1], "demo-worker.service"
    slug = f"{target.name}-demo-worker"
    c = srv.client()
    status, body = c.request("POST", f"/api/services/{slug}/restart")
    assert status == 200 and body["success"] and body["status"]["state"] == "active", body
    restart = wait_command(target, lambda cmd: "restart" in cmd and cmd.endswith(unit))
    show = wait_command(target, _only_unit(unit, "show"))

    def bare():
        code, _ = floor.run(target.name, restart)
        assert code == 0
        floor.run(target.name, show)

    before = load()
    t = interleave({"recon_restart": lambda: c.request("POST", f"/api/services/{slug}/restart"),
                    "bare_restart_and_show": bare}, n, warmup=1)
    c.close()
    return {"commands": [restart, show], "load": f"{before} -> {load()}",
            **{k: stats(v) for k, v in t.items()},
            "paired": paired(t["recon_restart"], t["bare_restart_and_show"])}


def bench_logs(f: Fleet, srv: Server, floor: Floor, n: int, lines: int) -> dict:
    target = f.hosts[2]
    slug = f"{target.name}-{CHATTY.removesuffix('.service')}"
    held = target.run(["sh", "-c", f"journalctl -u {CHATTY} -o cat | wc -l"]).stdout.strip()
    c = srv.client()
    status, body = c.request("GET", f"/api/services/{slug}/logs?lines={lines}")
    assert status == 200 and len(body["lines"]) == lines, (status, str(body)[:300])
    command = wait_command(target, lambda cmd: "journalctl" in cmd and CHATTY in cmd
                           and f"-n {lines + 1}" in cmd)
    bare_bytes = len(floor.run(target.name, command)[1])
    before = load()
    t = interleave({"recon_logs": lambda: c.request("GET",
                                                    f"/api/services/{slug}/logs?lines={lines}"),
                    "bare_journalctl": lambda: floor.run(target.name, command)}, n, warmup=1)
    c.close()
    return {"lines": lines, "journal_lines_held": int(held), "command": command,
            "bare_output_bytes": bare_bytes, "load": f"{before} -> {load()}",
            **{k: stats(v) for k, v in t.items()},
            "paired": paired(t["recon_logs"], t["bare_journalctl"])}
