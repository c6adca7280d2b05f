"""``python -m recon.demo.watchdog RUN_DIR``: tear a testbed run down when its starter dies.

The starter keeps the write end of this process's stdin. Any exit of the starter -- normal,
an exception, ``kill -9`` -- closes it; on EOF the watchdog ends every container listed in
``RUN_DIR/state.json`` and removes RUN_DIR. It runs in its own session (no Ctrl-C from the
terminal reaches it) and ignores SIGINT/SIGHUP, so it outlives what it watches.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    run_dir = Path(argv[1])
    while sys.stdin.buffer.read(4096):
        pass  # the starter never writes; only EOF matters
    from recon.demo.runstate import teardown
    teardown(run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
