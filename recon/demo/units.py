"""Unit files, service-manager wrappers and sudoers rules of a demo target.

Everything here is pure text generation (plus locating the systemctl replacement),
so it can be reasoned about and tested without root.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recon.logs.query import sudoers_journal_command

#: Sent by ExecReload of the default units; `/bin/kill` makes the replacement warn on every action.
DEFAULT_RELOAD = "/usr/bin/env kill -HUP $MAINPID"

#: Actions a sudoers drop-in grants per unit (``journal`` is the journalctl line).
SUDO_ACTIONS: tuple[str, ...] = ("start", "stop", "restart", "reload", "status", "journal")

_UNIT_NAME = re.compile(r"^[A-Za-z0-9_.@:-]+\.service$")
_ENV_MARKER = "RECON_DEMO_ROOT"


@dataclass(frozen=True)
class UnitSpec:
    """One service of a demo target.

    ``exec_start=None`` runs the built-in heartbeat loop (prints a line every
    ``interval`` seconds, logs ``SIGHUP`` as a reload, exits cleanly on ``SIGTERM``).
    """

    name: str
    description: str
    exec_start: str | None = None
    exec_reload: str = DEFAULT_RELOAD
    enabled: bool = True
    interval: float = 1.0

    def __post_init__(self) -> None:
        if not _UNIT_NAME.match(self.name):
            raise ValueError(f"unsupported unit name {self.name!r} (want NAME.service)")


DEFAULT_UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("demo-web.service", "Demo web server", interval=1.0),
    UnitSpec("demo-worker.service", "Demo queue worker", interval=1.5),
    UnitSpec("demo-cron.service", "Demo scheduler", interval=2.0),
    UnitSpec("demo-stuck.service", "Demo service whose reload hangs",
             exec_reload="/bin/sleep 600", interval=2.0),
)

# The service body is a shell loop rather than Python: 50 services (the benchmark)
# then cost ~1 MB each instead of ~10 MB. `sleep & wait` keeps SIGTERM/SIGHUP prompt,
# and the TERM trap kills the pending sleep so a stopped unit leaves nothing behind.
HEARTBEAT_SCRIPT = """#!/bin/sh
# RECON demo service body: one stdout line per interval so the unit has logs.
label="${1:-demo}"
interval="${2:-1}"
n=0
child=
trap 'echo "$label: reload requested (SIGHUP), config re-read"' HUP
trap 'echo "$label: stopping (SIGTERM)"; kill $child 2>/dev/null; exit 0' TERM INT
echo "$label: started as pid $$ (user $(id -un))"
while :; do
    n=$((n + 1))
    echo "$label: heartbeat $n"
    sleep "$interval" &
    child=$!
    while kill -0 "$child" 2>/dev/null; do wait "$child"; done
done
"""

# sshd runs every command as `$SHELL -c CMD`; making this the login user's shell records
# the commands without ForceCommand (which would also hijack subsystems). NUL-separated
# so multi-line commands survive; a missing log variable (another sshd) records nothing.
LOGIN_SHELL_SCRIPT = """#!/bin/sh
# Login shell of the RECON demo user: logs each ssh command, then behaves like /bin/sh.
if [ "$1" = "-c" ] && [ -n "$RECON_DEMO_COMMAND_LOG" ]; then
    printf '%s\\0' "$2" >> "$RECON_DEMO_COMMAND_LOG" 2>/dev/null
fi
case "$0" in -*) [ $# -eq 0 ] && exec /bin/sh -l ;; esac
exec /bin/sh "$@"
"""


def replacement_sources() -> tuple[Path, Path]:
    """Paths of the installed ``systemctl3.py`` and ``journalctl3.py``.

    (PyPI docker-systemctl-replacement.) They are copied into each target because the
    venv may not be traversable by the login user, and a copy pins the exact version.
    """
    spec = importlib.util.find_spec("systemctl2.systemctl3")
    if spec is None or spec.origin is None:
        raise RuntimeError("docker-systemctl-replacement is not installed (pip install "
                           "docker-systemctl-replacement==1.7.1097)")
    systemctl = Path(spec.origin)
    return systemctl, systemctl.with_name("journalctl3.py")


# Edits applied to the target's private copy of systemctl3.py (each skipped if the text
# is absent, e.g. another version): a leftover `logg.fatal` that prints a CRITICAL line on
# every `journalctl -n`; a hard-coded 1 s poll that made every `stop` take ~1.3 s; and a
# child-process walk that never stops at its fixed point (100 full /proc scans per stopped
# unit: ~0.25 s each, growing with the number of processes on the machine).
REPLACEMENT_PATCHES: tuple[tuple[str, str], ...] = (
    ('            logg.fatal("%s => %s", self.tail_cmds, tail_cmd)\n', ""),
    ("time.sleep(1) # until TimeoutStopSec", "time.sleep(MinimumYield) # until TimeoutStopSec"),
    ("            if len(pids) != len(pidlist):\n"
     "                pidlist = pids[:]\n"
     "                continue\n"
     "        return pids\n",
     "            if len(pids) == len(pidlist):\n"
     "                break\n"
     "            pidlist = pids[:]\n"
     "        return pids\n"),
)


# journalctl3.py execs its sibling by file name; point it at the launcher (cached bytecode).
JOURNALCTL_PATCHES: tuple[tuple[str, str], ...] = (
    ('systemctl_py = "systemctl3.py"', 'systemctl_py = "systemctl3-main"'),
)


def patched(source: str, patches: Sequence[tuple[str, str]]) -> str:
    """``source`` with each ``(old, new)`` replacement applied."""
    for old, new in patches:
        source = source.replace(old, new)
    return source


def launcher(python: str) -> str:
    """``lib/systemctl3-main``: runs systemctl3 as an *imported* module.

    Run as a script, the 345 kB systemctl3.py is recompiled on every call (~120 ms per
    ``systemctl show``); imported, its precompiled bytecode is used (~60 ms).
    """
    return (f"#!{python}\n"
            "import sys\n\n"
            "from systemctl3 import main\n\n"
            "sys.exit(main())\n")


def python_executable() -> str:
    """A python3 the login user can execute (the venv's may live under an 0700 /root)."""
    for candidate in ("/usr/bin/python3", os.path.realpath(sys.executable)):
        path = Path(os.path.realpath(candidate))
        if path.is_file() and all(p.stat().st_mode & 0o001 for p in [path, *path.parents]):
            return str(path)
    raise RuntimeError("no python3 executable by every user; install python3 (apt)")


def systemctl_wrapper(sysroot: Path, python: str) -> str:
    """Shell wrapper named ``systemctl`` running the replacement inside ``sysroot``.

    Not a plain ``exec``: when sudo relays a TERM/INT/HUP (``timeout N sudo ...``), the
    ExecReload/ExecStop processes the replacement forked must end with it -- they run as
    the service user, out of reach of ``timeout``'s process-group kill, and would otherwise
    outlive the command (a hung ``sleep 600``). Units run in their own sessions (setsid),
    so ``-s 0`` leaves them alone.
    """
    return (
        "#!/bin/sh\n"
        f"# RECON demo target: systemctl stand-in whose units and state live in {sysroot}\n"
        f"{python} {sysroot}/lib/systemctl3-main --root={sysroot} "
        "-c MinimumYield=0.05 -c SysInitWait=0 \"$@\" &\n"
        "pid=$!\n"
        "trap 'pkill -TERM -s 0 -P \"$pid\"; kill -TERM \"$pid\" 2>/dev/null' TERM INT HUP\n"
        "while :; do\n"
        "    wait \"$pid\"; rc=$?\n"
        "    kill -0 \"$pid\" 2>/dev/null || exit \"$rc\"\n"
        "done\n"
    )


def journalctl_wrapper(sysroot: Path, python: str) -> str:
    """Shell wrapper named ``journalctl``: the real ``/usr/bin/journalctl`` reading the
    target's own journal, which ``recon.demo.journal`` writes from the units' output through
    systemd-journal-remote. Every option (``-p``, ``--since``, ``-g``, ``-o json``, cursors,
    ``-f``) is therefore answered by the real program. ``python`` is unused (kept so the
    signature matches ``systemctl_wrapper``).

    A plain ``exec``: the process that sudo (and a pty's SIGHUP) sees is journalctl itself.
    """
    from .journal import JOURNALCTL, journal_dir

    return (
        "#!/bin/sh\n"
        f"# RECON demo target: the real journalctl, reading the journal of {sysroot}\n"
        f"exec {JOURNALCTL} --directory={journal_dir(sysroot)} \"$@\"\n"
    )


def render_unit(spec: UnitSpec, *, sysroot: Path, service_user: str | None) -> str:
    """The unit file text for ``spec``.

    ``StatusFile=`` is a key only the replacement reads: without it the status file lives
    in the first of /run, /var/run, ROOT/run the *caller* can write, so an unprivileged
    ``systemctl show`` reads another file than root wrote and says inactive. The path is
    relative to ``--root``, so it lands in ``sysroot/run/`` for every caller.
    The environment marker lets teardown find every process a unit left behind.
    """
    label = spec.name.removesuffix(".service")
    exec_start = spec.exec_start or f"/bin/sh {sysroot}/libexec/heartbeat {label} {spec.interval:g}"
    lines = [
        "[Unit]",
        f"Description={spec.description}",
        "",
        "[Service]",
        "Type=simple",
        f"Environment={_ENV_MARKER}={sysroot}",
        f"ExecStart={exec_start}",
    ]
    if spec.exec_reload:
        lines.append(f"ExecReload={spec.exec_reload}")
    if service_user:
        lines.append(f"User={service_user}")
    lines += [
        f"StatusFile=/run/{spec.name}.status",
        "TimeoutStopSec=5",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)


def env_marker(sysroot: Path) -> bytes:
    """The ``/proc/PID/environ`` entry of every unit and ssh-session process of the target."""
    return f"{_ENV_MARKER}={sysroot}".encode()


def _sudo_arg(word: str) -> str:
    # sudoers gives ',', ':', '=' and '\' a meaning inside a Cmnd; escape them literally.
    return re.sub(r"([,:=\\])", r"\\\1", word)


def render_sudoers(*, user: str, systemctl: str, journalctl: str, units: Iterable[str],
                   denied: Sequence[tuple[str, str]] = (), header: str = "") -> str:
    """A sudoers drop-in granting exactly what a real RECON deployment grants, per unit.

    ``denied`` lists ``(unit, action)`` pairs to leave out (see ``SUDO_ACTIONS``).
    """
    out = [f"# {header}".rstrip(), f"Defaults:{user} !requiretty"]
    for unit in units:
        for action in SUDO_ACTIONS:
            if (unit, action) in denied:
                continue
            if action == "journal":
                # Exactly RECON's journalctl argv for this unit (a sudo >= 1.9.10 regex),
                # not `journalctl -u UNIT *`, which also admits other units and --vacuum-*.
                cmd = sudoers_journal_command(journalctl, unit)
            else:
                cmd = f"{systemctl} {action} {_sudo_arg(unit)}"
            out.append(f"{user} ALL=(root) NOPASSWD: {cmd}")
    return "\n".join(out) + "\n"
