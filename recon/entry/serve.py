"""``make run``: serve RECON under gunicorn; with no configuration, against real demo hosts.

Demo mode boots three real Debian hosts (systemd, journald, sshd, sudo) in systemd-nspawn
containers on loopback addresses (:mod:`recon.demo.nspawn`) and writes a recon.toml for them in
``instance/demo``, so a newcomer sees live services to stop and start. They are stopped when
gunicorn exits -- and, through a watchdog, even when this process is killed with -9.

It listens on loopback (or a unix socket) only, unless ``RECON_ALLOW_DIRECT_BIND=1``: see
:func:`direct_bind_refusal` (nginx in front, deploy/nginx/recon.conf, for anything else).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from gunicorn.app.base import BaseApplication

from recon.web.context import runtime

log = logging.getLogger("recon.entry.serve")
# Set to 1 to let `make run` listen beyond loopback anyway (see direct_bind_refusal).
ALLOW_DIRECT_BIND = "RECON_ALLOW_DIRECT_BIND"
# gunicorn's own limits, set here so they are written down: a longer request line is 414, a
# longer header line or more headers 431/400 -- answered by gunicorn (or nginx) itself, with
# its own small HTML page, before RECON sees the request (README: API).
REQUEST_LIMITS = {"limit_request_line": 4094, "limit_request_fields": 100,
                  "limit_request_field_size": 8190}
# Seconds an idle keep-alive connection is kept open. Longer than the upstream
# keepalive_timeout of deploy/nginx/*.conf (5 s): nginx closes an idle connection first and
# never sends a request down one gunicorn is closing at that moment (that race is a 502, and
# with replicas it marks a live one failed).
KEEPALIVE_SECONDS = 10


def _bind_host(bind: str) -> str:
    """The host of a gunicorn bind: ``HOST:PORT``, ``[V6]:PORT``, ``HOST`` or a bare IPv6
    address (anything else, e.g. ``fd://3``, yields no loopback host)."""
    if bind.startswith("["):
        return bind[1:].partition("]")[0]
    if bind.count(":") == 1:
        return bind.partition(":")[0]
    return bind


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name (it may resolve anywhere) or an empty host (every address)
        return False


def direct_bind_refusal(bind: str, env: Mapping[str, str]) -> str | None:
    """Why RECON will not listen on ``bind`` (None when it will).

    gunicorn's gthread worker reads a request's headers in one of its threads with no
    deadline, so a few hundred clients that send a header line every few seconds hold every
    thread and nothing else is answered (measured with bench/slowloris.py). nginx waits for
    headers in its event loop and cuts them (``client_header_timeout``). So RECON listens on
    loopback or a unix socket, unless the operator sets ``RECON_ALLOW_DIRECT_BIND=1`` (a proxy
    on another machine, a trusted network)."""
    if bind.startswith("unix:") or env.get(ALLOW_DIRECT_BIND) == "1":
        return None
    if _loopback(_bind_host(bind)):
        return None
    return (f"RECON will not listen on {bind}: gunicorn waits for each request's headers in "
            "one of its threads with no deadline, so a few hundred slow clients (slowloris) "
            "from the network hold every thread and the dashboard stops answering.\n"
            "Serve it on loopback (make run BIND=127.0.0.1:8420) and put nginx in front with "
            "deploy/nginx/recon.conf (README: Production deployment): its "
            "client_header_timeout cuts slow clients before they reach gunicorn.\n"
            f"To listen on {bind} anyway (a proxy on another machine, a trusted network), set "
            f"{ALLOW_DIRECT_BIND}=1.")


class ReconServer(BaseApplication):
    """gunicorn with RECON's settings: gthread workers, so log streams and terminals, which
    hold a request open, do not starve other requests."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from recon.entry.app import served_app
        return served_app(cli=False)


def start_demo(instance: Path):
    """Boot the demo hosts and point RECON_CONFIG at their recon.toml (kept from the last
    start, with this boot's addresses and keys); returns the testbed.

    Exits with the reason (and how to point RECON at a real host instead) when this machine
    cannot boot them.
    """
    from recon.config.edit import write_atomically
    from recon.demo.files import DEFAULT_UNITS, EXTRA_UNITS
    from recon.demo.nspawn import Testbed, unavailable_reason
    from recon.demo.recon_config import demo_config_toml, refresh_demo_config

    reason = unavailable_reason()
    if reason:
        raise SystemExit(
            f"No instance/recon.toml, and no demo hosts here: {reason}.\n"
            "The demo boots 3 Debian hosts with real systemd in systemd-nspawn containers; it "
            "needs root on Linux (`sudo make run`).\n"
            "To manage a real host instead: cp recon.example.toml instance/recon.toml, set "
            "hosts.NAME.address/user/key and the services, then run `flask --app wsgi recon "
            "keygen`, `recon hosts trust NAME`, `recon sudoers NAME` and `recon check` "
            "(README: Adding a real host).")
    root = instance / "demo"
    root.mkdir(parents=True, exist_ok=True)
    # Random crashes on: the flaky unit crashes every 20-60 s and systemd restarts it.
    bed = Testbed(["alpha", "bravo", "charlie"], units=DEFAULT_UNITS + EXTRA_UNITS,
                  extra_units=(), random_crashes=True, log=lambda msg: log.warning("%s", msg))
    infos = [h.info for h in bed.start()]
    config = root / "recon.toml"
    # Kept across starts: what the user added (services, channels, settings) survives; only
    # the hosts' addresses and keys, new with every boot, are rewritten.
    if config.exists():
        old = config.read_text()
        (root / "recon.toml.previous").write_text(old)
        text = refresh_demo_config(old, infos)
    else:
        text = demo_config_toml(infos)
    write_atomically(config, text.encode())
    os.environ["RECON_CONFIG"] = str(config)
    log.warning("DEMO MODE: no instance/recon.toml, so RECON manages %d real demo hosts "
                "(systemd in containers): %s", len(infos),
                ", ".join(f"{i.user}@{i.address}" for i in infos))
    return bed


def startup_summary(config) -> str:
    """One line saying what this start loaded: the config file, its hosts and services."""
    hosts = ", ".join(f"{h.name} ({h.user}@{h.address}:{h.port})" for h in config.hosts.values())
    services = ", ".join(s.slug for s in config.services.values())
    return (f"config {config.source}; {len(config.hosts)} host(s): {hosts or '(none)'}; "
            f"{len(config.services)} service(s): {services or '(none)'}")


def announce_admin(demo: bool) -> None:
    """Create the first admin when there are no users and print its password once."""
    from recon import create_app
    from recon.auth.bootstrap import ensure_admin
    from recon.db.extensions import db

    # A throwaway app in the master: workers build their own after the fork (and start their
    # own background threads), so nothing the master opened is shared with them.
    app = create_app()
    config = runtime(app).config
    log.info("RECON loaded %s (revision %s)", startup_summary(config), config.revision)
    from recon.db.instance import StartupError
    from recon.monitor.config_split import startup_refusal
    with app.app_context():
        # Servers that share one config converge on the newest instead (liveconfig.shared).
        refusal = (None if config.settings.share_config
                   else startup_refusal(config.revision, str(config.source)))
    if refusal is not None:
        raise StartupError([refusal])
    password = ensure_admin(app)
    with app.app_context():
        db.engine.dispose()
    if password is None:
        return
    banner = "=" * 64
    print(f"{banner}\nRECON created the first user: admin / {password}\n"
          "This password is shown only now; change it with "
          "`flask --app wsgi recon users passwd admin`."
          + ("\n(DEMO MODE: the services below belong to local demo hosts.)" if demo else "")
          + f"\n{banner}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", default="127.0.0.1:8420")
    parser.add_argument("--workers", type=int, default=2)
    # Each open log stream or terminal holds a thread: room for log_streams_max (32) plus
    # terminals plus ordinary requests in every worker.
    parser.add_argument("--threads", type=int, default=64)
    args = parser.parse_args(argv)
    refusal = direct_bind_refusal(args.bind, os.environ)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        raise SystemExit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Alembic announces each of its plugins at INFO: noise before the lines that matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    target = None
    from recon.entry.app import instance_path
    instance = instance_path()
    if "RECON_CONFIG" not in os.environ and not (instance / "recon.toml").exists():
        target = start_demo(instance)
    from recon.config import ConfigError
    from recon.db.instance import StartupError
    try:
        announce_admin(demo=target is not None)
    except (ConfigError, StartupError) as exc:  # the message list, not a traceback
        if target is not None:
            target.stop()
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    try:
        ReconServer({"bind": args.bind, "workers": args.workers, "threads": args.threads,
                     "worker_class": "gthread", "timeout": 60, "accesslog": "-",
                     "keepalive": KEEPALIVE_SECONDS,
                     **REQUEST_LIMITS}).run()
    finally:
        if target is not None:
            target.stop()


if __name__ == "__main__":
    main()
