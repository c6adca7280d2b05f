"""``python -m recon.demo up|down --dir DIR``: run the demo SSH target (used by ``make run``).

``up`` starts a target with DIR as its root, prints its TargetInfo as one JSON line on
stdout, and keeps running until SIGTERM/SIGINT, then stops it. ``down`` stops the target
whose ``up`` process wrote DIR/up.pid -- or, if that process is gone, the target it left
behind (from DIR/target.json).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from recon.demo import procs
from recon.demo.target import DemoTarget, target_from_state


def _up(root: Path, port: int | None, name: str) -> int:
    root.mkdir(parents=True, exist_ok=True)
    if (root / "target.json").exists():  # a previous `up` died without cleaning up
        _down(root)
    pid_file = root / "up.pid"
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    # Installed before start() so a signal during the build still leads to a clean stop.
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    target = DemoTarget(root, name=name, port=port)
    try:
        info = target.start()
        pid_file.write_text(f"{os.getpid()}\n")
        print(json.dumps(info.to_json()), flush=True)
        while not stop_requested:
            time.sleep(0.2)  # signal.pause() could miss a signal landing just before it
    finally:
        target.stop()
        pid_file.unlink(missing_ok=True)
    return 0


def _down(root: Path, timeout: float = 30.0) -> int:
    pid_file = root / "up.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid = 0
    if pid and procs.is_alive(pid) and "recon.demo" in procs.cmdline(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while procs.is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    if (root / "target.json").exists():  # no live `up` process, or it failed to clean up
        target_from_state(root).stop()
    pid_file.unlink(missing_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m recon.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a demo target and run until SIGTERM/SIGINT")
    up.add_argument("--dir", type=Path, required=True, help="the target's root directory")
    up.add_argument("--port", type=int, default=None, help="sshd port (default: a free one)")
    up.add_argument("--name", default="demo", help="target name (default: demo)")
    down = sub.add_parser("down", help="stop the demo target of DIR")
    down.add_argument("--dir", type=Path, required=True, help="the target's root directory")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("must run as root (it creates a user, sudo rules and an sshd)")
    root = args.dir.absolute()
    if args.command == "up":
        return _up(root, args.port, args.name)
    return _down(root)


if __name__ == "__main__":
    sys.exit(main())
