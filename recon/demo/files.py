"""Text of the files a real demo host gets: units, service programs, sshd drop-in, hosts.

Pure text generation, so it can be read and tested without root. The service programs are
deliberately small: the shell heartbeat costs ~1 MB per service, the Python web server ~10 MB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recon.demo.tree import COMMAND_LOG_DIR, LOGIN_USER, SERVICE_USER, TERMINAL_USER

#: Where the service programs are bound (read-only) inside every host.
LIB = "/usr/local/lib/recon-demo"
#: Unit files are bound here: a unit path systemd reads, like a package's /usr/lib units.
UNIT_DIR = "/usr/local/lib/systemd/system"
#: The FIFO demo-web relays into its own output, so tests can write lines "as the service".
WEB_INPUT = "/run/demo-web/input"
WEB_PORT = 8080
COMMAND_LOG = f"{COMMAND_LOG_DIR}/commands.log"

_UNIT_NAME = re.compile(r"^[A-Za-z0-9_.@:-]+\.(service|timer)$")

# One stdout line per interval. `sleep & wait` keeps SIGTERM/SIGHUP prompt; the TERM trap
# kills the pending sleep so a stopped unit leaves nothing behind. `<N>` prefixes set the
# journal priority (journald's SyslogLevelPrefix). DEMO_CRASH_MAX > 0 makes the service exit 1
# after a random DEMO_CRASH_MIN..MAX seconds, as a flaky daemon would; SIGUSR1 crashes it at
# once (tests use that instead of waiting).
HEARTBEAT = r"""#!/bin/sh
# RECON demo service body: a heartbeat line per interval; may crash on purpose (see unit).
label="${1:-demo}"
interval="${2:-1}"
min="${DEMO_CRASH_MIN:-0}"
max="${DEMO_CRASH_MAX:-0}"
n=0
child=
crash_at=0
if [ "$max" -gt 0 ]; then
    r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    crash_at=$(( $(date +%s) + min + r % (max - min + 1) ))
fi
trap 'echo "<5>$label: reload requested (SIGHUP), config re-read"' HUP
trap 'echo "<5>$label: stopping (SIGTERM)"; kill $child 2>/dev/null; exit 0' TERM INT
crash() { echo "<3>$label: fatal error on request (SIGUSR1), exiting 1"; kill $child; exit 1; }
trap crash USR1
echo "<5>$label: started as pid $$ (user $(id -un))"
while :; do
    n=$((n + 1))
    echo "$label: heartbeat $n"
    if [ "$crash_at" -gt 0 ] && [ "$(date +%s)" -ge "$crash_at" ]; then
        echo "<3>$label: fatal error: lost the queue connection, exiting 1"
        exit 1
    fi
    sleep "$interval" &
    child=$!
    while kill -0 "$child" 2>/dev/null; do wait "$child"; done
done
"""

# A real HTTP server on the host's own address (every host shares the machine's network
# namespace, so binding 0.0.0.0 would collide), plus a heartbeat and a FIFO whose lines it
# prints -- the tests' way to make the service itself log a given line.
WEB = r'''#!/usr/bin/python3
"""RECON demo web server: http.server on DEMO_ADDRESS:DEMO_PORT, a heartbeat, a FIFO relay."""
import functools, http.server, os, signal, sys, threading, time

label = "demo-web"
address, port = os.environ["DEMO_ADDRESS"], int(os.environ.get("DEMO_PORT", "8080"))
fifo = os.environ.get("DEMO_INPUT", "")


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def on_hup(signum, frame):
    say(f"<5>{label}: reload requested (SIGHUP), config re-read")


def on_term(signum, frame):
    say(f"<5>{label}: stopping (SIGTERM)")
    os._exit(0)


def relay():
    # O_RDWR: the FIFO never reports EOF when a writer closes, so one open serves all lines.
    with open(os.open(fifo, os.O_RDWR), "rb", buffering=0) as f:
        buf = b""
        while True:
            buf += f.read(65536)
            *lines, buf = buf.split(b"\n")
            for line in lines:
                sys.stdout.buffer.write(line + b"\n")
            sys.stdout.flush()


def heartbeat():
    n = 0
    while True:
        n += 1
        say(f"{label}: heartbeat {n}")
        time.sleep(1)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        say(f"{label}: {self.address_string()} {fmt % args}")


signal.signal(signal.SIGHUP, on_hup)
signal.signal(signal.SIGTERM, on_term)
if fifo:
    if not os.path.exists(fifo):
        os.mkfifo(fifo, 0o600)
    threading.Thread(target=relay, daemon=True).start()
threading.Thread(target=heartbeat, daemon=True).start()


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # one line, not a traceback: a client that hangs up mid-answer is routine here
        say(f"{label}: {client_address[0]} hung up: {sys.exc_info()[1]!r}")


server = Server((address, port), functools.partial(Quiet, directory="/usr/share/doc"))
say(f"<5>{label}: started as pid {os.getpid()}, serving http://{address}:{port}/")
server.serve_forever()
'''

# sshd runs every command as `$SHELL -c CMD`; as the login user's shell this records each
# command exactly as it reached the host (NUL-separated, so multi-line commands survive),
# without ForceCommand (which would also hijack subsystems).
LOGIN_SHELL_SCRIPT = f"""#!/bin/sh
# Login shell of the RECON demo user: logs each ssh command, then behaves like /bin/sh.
if [ "$1" = "-c" ]; then
    printf '%s\\0' "$2" >> {COMMAND_LOG} 2>/dev/null
fi
case "$0" in -*) [ $# -eq 0 ] && exec /bin/sh -l ;; esac
exec /bin/sh "$@"
"""


@dataclass(frozen=True)
class UnitSpec:
    """One demo unit. ``kind``: ``heartbeat`` (shell loop), ``web`` (HTTP server), ``flaky``
    (heartbeat that crashes now and then), ``oneshot`` (with a ``.timer`` of the same name)."""

    name: str
    description: str
    kind: str = "heartbeat"
    exec_reload: str = "/bin/kill -HUP $MAINPID"
    enabled: bool = True
    interval: float = 1.0
    extra: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _UNIT_NAME.match(self.name):
            raise ValueError(f"unsupported unit name {self.name!r} (want NAME.service)")
        if self.kind not in ("heartbeat", "web", "flaky", "oneshot"):
            raise ValueError(f"unknown unit kind {self.kind!r}")


#: The units RECON manages on a test host (the names the tests use).
DEFAULT_UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("demo-web.service", "Demo web server", kind="web"),
    UnitSpec("demo-worker.service", "Demo queue worker", interval=1.5),
    UnitSpec("demo-cron.service", "Demo scheduler", interval=2.0),
    # A reload that hangs; systemd ends it after TimeoutStartSec (which reloads also use).
    UnitSpec("demo-stuck.service", "Demo service whose reload hangs", interval=2.0,
             exec_reload="/bin/sleep 600", extra=("TimeoutStartSec=8",)),
)
#: Installed on every host too, but not managed by the tests' RECON config.
EXTRA_UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("demo-flaky.service", "Demo daemon that crashes now and then", kind="flaky",
             interval=2.0),
    UnitSpec("demo-backup.service", "Demo nightly backup (a oneshot run by its timer)",
             kind="oneshot"),
)


def render_unit(spec: UnitSpec, *, address: str, random_crashes: bool) -> dict[str, str]:
    """``{file name: text}`` for ``spec`` (a oneshot brings its timer)."""
    label = spec.name.rsplit(".", 1)[0]
    service = ["[Unit]", f"Description={spec.description}"]
    if spec.kind != "flaky":
        # Tests and newcomers stop/start these many times a minute; systemd's default start
        # limit (5 in 10 s) would fail them. The flaky unit keeps it: a crash loop is real.
        service.append("StartLimitIntervalSec=0")
    service += ["", "[Service]", f"User={SERVICE_USER}", f"SyslogIdentifier={label}"]
    if spec.kind == "oneshot":
        service += ["Type=oneshot",
                    f"ExecStart=/bin/sh -c 'echo \"{label}: snapshot written at $(date -u +%%T)\"'"]
    elif spec.kind == "web":
        service += ["Type=simple", f"Environment=DEMO_ADDRESS={address} DEMO_PORT={WEB_PORT}",
                    f"Environment=DEMO_INPUT={WEB_INPUT}", f"RuntimeDirectory={label}",
                    f"ExecStart=/usr/bin/python3 {LIB}/web.py"]
    else:
        service += ["Type=simple", f"ExecStart=/bin/sh {LIB}/heartbeat {label} {spec.interval:g}"]
    if spec.kind == "flaky":
        if random_crashes:
            service.append("Environment=DEMO_CRASH_MIN=20 DEMO_CRASH_MAX=60")
        service += ["Restart=on-failure", "RestartSec=3"]
    if spec.exec_reload and spec.kind != "oneshot":
        service.append(f"ExecReload={spec.exec_reload}")
    service += ["TimeoutStopSec=5", *spec.extra, ""]
    if spec.kind == "oneshot":
        timer = ["[Unit]", f"Description=Run {label} every minute", "", "[Timer]",
                 "OnCalendar=minutely", "AccuracySec=1s", "", "[Install]",
                 "WantedBy=timers.target", ""]
        return {spec.name: "\n".join(service), f"{label}.timer": "\n".join(timer)}
    service += ["[Install]", "WantedBy=multi-user.target", ""]
    return {spec.name: "\n".join(service)}


def enable_names(specs: tuple[UnitSpec, ...]) -> list[str]:
    """What ``systemctl enable --now`` gets: services, or the timer of a oneshot."""
    return [s.name.replace(".service", ".timer") if s.kind == "oneshot" else s.name
            for s in specs if s.enabled]


def sshd_dropin(*, name: str, address: str, port: int) -> str:
    """``/etc/ssh/sshd_config.d/recon.conf``: this host's address and key, key-only login.

    Debian's sshd_config includes the drop-ins first, and sshd keeps the first value it reads,
    so these win over the defaults.
    """
    return f"""# RECON demo host {name} (generated; bound read-only into the container)
Port {port}
ListenAddress {address}
HostKey /etc/ssh/ssh_host_ed25519_key
AllowUsers {LOGIN_USER} {TERMINAL_USER}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
# PAM costs ~12 ms per connection and is not needed for key logins (see TESTBED-NOTES).
UsePAM no
StrictModes yes
MaxStartups 100:30:200
MaxSessions 10
UseDNS no
PrintLastLog no
X11Forwarding no
LogLevel VERBOSE
"""


def hosts_file(*, name: str, address: str) -> str:
    """/etc/hosts naming the host (sudo warns "unable to resolve host" otherwise)."""
    return f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n{address}\t{name}\n"
