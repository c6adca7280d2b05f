"""``make run``: serve RECON under gunicorn; with no configuration, against a demo target.

Demo mode starts a real SSH target on 127.0.0.1 (sshd, scoped sudoers, demo services) in
``instance/demo`` and writes a recon.toml for it, so a newcomer sees live services to stop and
start. The target is stopped again when gunicorn exits.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication

log = logging.getLogger("recon.serve")
INSTANCE = Path(__file__).resolve().parent.parent / "instance"


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
        from wsgi import app
        return app


def start_demo(instance: Path):
    """Start the demo target and point RECON_CONFIG at its recon.toml; returns the target."""
    from .demo.recon_config import demo_config_toml
    from .demo.target import DemoTarget

    if os.geteuid() != 0:
        raise SystemExit(
            "No instance/recon.toml: the built-in demo target needs root (it creates a local "
            "user, an sshd on 127.0.0.1 and a sudoers drop-in). Run `sudo make run`, or write "
            "instance/recon.toml from recon.example.toml.")
    root = instance / "demo"
    root.mkdir(parents=True, exist_ok=True)
    target = DemoTarget(root)
    info = target.start()
    config = root / "recon.toml"
    config.write_text(demo_config_toml([info]))
    os.environ["RECON_CONFIG"] = str(config)
    log.warning("DEMO MODE: no instance/recon.toml, so RECON manages the demo target "
                "%s@%s:%s (%s)", info.user, info.address, info.port, ", ".join(info.units))
    return target


def announce_admin(demo: bool) -> None:
    """Create the first admin when there are no users and print its password once."""
    from . import create_app
    from .auth.bootstrap import ensure_admin
    from .extensions import db

    # A throwaway app in the master: workers build their own after the fork (and start their
    # own background threads), so nothing the master opened is shared with them.
    app = create_app()
    password = ensure_admin(app)
    with app.app_context():
        db.engine.dispose()
    if password is None:
        return
    banner = "=" * 64
    print(f"{banner}\nRECON created the first user: admin / {password}\n"
          "This password is shown only now; change it with "
          "`flask --app wsgi recon users passwd admin`."
          + ("\n(DEMO MODE: the services below belong to a local demo target.)" if demo else "")
          + f"\n{banner}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", default="127.0.0.1:8420")
    parser.add_argument("--workers", type=int, default=2)
    # Each open log stream or terminal holds a thread: room for log_streams_max (32) plus
    # terminals plus ordinary requests in every worker.
    parser.add_argument("--threads", type=int, default=64)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    target = None
    if "RECON_CONFIG" not in os.environ and not (INSTANCE / "recon.toml").exists():
        target = start_demo(INSTANCE)
    from .config import ConfigError
    from .instance import StartupError
    try:
        announce_admin(demo=target is not None)
    except (ConfigError, StartupError) as exc:  # the message list, not a traceback
        if target is not None:
            target.stop()
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    try:
        ReconServer({"bind": args.bind, "workers": args.workers, "threads": args.threads,
                     "worker_class": "gthread", "timeout": 60, "accesslog": "-"}).run()
    finally:
        if target is not None:
            target.stop()


if __name__ == "__main__":
    main()
