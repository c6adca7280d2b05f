"""Every scalar setting of ``[settings]`` in one declarative table: name, type, default,
allowed range and what it does, declared like every other ``recon.toml`` key
(:func:`recon.config.declare.option`). Validation (:mod:`recon.config`), the environment
overrides (``RECON_<NAME>``) and the README's settings table are all derived from it, so they
cannot drift apart (a test compares the README with :func:`markdown_table`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recon.config.declare import declared, option


def setting(default: Any, doc: str, low: float | None = None,
            high: float | None = None) -> Any:
    """One setting: its default, its documentation and (for numbers) its inclusive range."""
    return option(default, doc, low=low, high=high)


@dataclass(frozen=True)
class Settings:
    """Scalar settings; each can be overridden by an env var ``RECON_<NAME>``."""

    known_hosts: str = setting("known_hosts",
                               "trusted host keys (OpenSSH format), relative to recon.toml")
    refresh_seconds: int = setting(
        30, "the page's resync from the snapshot (and its fallback while the live stream is "
        "down)", 1, 86400)
    # The fleet monitor (recon.monitor): one supervisor per host in one process at a time.
    monitor_poll_seconds: float = setting(
        15.0, "the monitor's safety read of a host whose unit signals flow", 1, 3600)
    monitor_fallback_poll_seconds: float = setting(
        2.0, "read interval of a host without usable unit signals", 0.2, 3600)
    # Liveness (recon.monitor.liveness). A host that sent nothing for a keepalive period is
    # asked for a reply (no command runs on it); one that then stays silent for
    # monitor_silence_seconds is down. 1 s and 3 s: a frozen host or a cut link is flagged
    # within ~3.3 s (the issue asks for 5), while a busy host still has 2 s to answer a
    # request sshd handles without running anything.
    monitor_keepalive_seconds: float = setting(
        1.0, "a host that sent nothing for this long is asked for an SSH keepalive reply (no "
        "command runs on the host)", 0.2, 3600)
    monitor_silence_seconds: float = setting(
        3.0, "a host that sends nothing for this long, not even a keepalive reply, is marked "
        "down (`timeout`) and its connection replaced: the liveness bound (keep it at least "
        "twice `monitor_keepalive_seconds`)", 0.5, 3600)
    monitor_banner_seconds: float = setting(
        30.0, "how often the monitor opens a new TCP connection to each host's sshd and reads "
        "its banner (no login): a host whose sshd takes no new connections is `degraded` "
        "(`sshd_refusing`) while its open connection still works; 0: never", 0, 86400)
    monitor_probe_timeout: float = setting(
        5.0, "a monitor read slower than this marks the host down (`timeout`)", 0.5, 120)
    # Crash loops (recon.monitor.crashloop). systemd's own start limit (5 starts in 10 s)
    # only catches a unit that dies at once; one with RestartSec=2 or more never hits it and
    # looks "active" between crashes. 3 automatic restarts is a pattern rather than an
    # incident (1 is a crash, 2 may be chance), and 5 minutes holds 3 restarts of a unit
    # with RestartSec up to ~100 s while a unit that is fixed is shown running again soon.
    crash_loop_restarts: int = setting(
        3, "automatic restarts (NRestarts) within `crash_loop_window_seconds` that make a "
        "unit `crash-looping`", 2, 1000)
    crash_loop_window_seconds: float = setting(
        300.0, "the crash-loop window; a crash-looping unit is shown running again once it "
        "stayed up (no automatic restart) this long", 5, 86400)
    host_units_seconds: float = setting(
        60.0, "how often the process watching a host reads its unit list (the host page)",
        5, 86400)
    status_fresh_timeout: float = setting(3.0, "deadline of `GET .../status?fresh=1`", 0.5, 120)
    history_retention_days: float = setting(30.0, "state history kept for", 0.01, 3650)
    history_max_events: int = setting(200000, "state history kept, at most this many events",
                                      100, 100_000_000)
    # Replicas (README: Running more than one): the accepted recon.toml kept in the database,
    # so a change made through one server reaches the others (recon.liveconfig.shared).
    share_config: bool = setting(
        False, "servers on one database keep one recon.toml: each change (browser, CLI or "
        "hand edit) is stored in the database and written to every server's file")
    database_busy_seconds: float = setting(
        5.0, "how long a request waits for a locked database before 503 `database_busy`",
        0.05, 300)
    status_cache_seconds: float = setting(
        0.0, "ignored since the monitor (kept so older files load)", 0, 3600)
    audit_output_bytes: int = setting(2048, "command output kept in the audit log",
                                      0, 1_000_000)
    max_request_bytes: int = setting(
        1048576, "larger request bodies are refused with 413 `request_entity_too_large`",
        1024, 1_073_741_824)
    # Browser terminals (recon.terminals): one ttyd per session, closed by the terminal GC.
    terminal_ttl_seconds: float = setting(1800.0, "a terminal session ends after this long",
                                          0.1, 7 * 86400)
    terminal_idle_seconds: float = setting(
        120.0, "... or this long without heartbeat or traffic", 0.1, 86400)
    terminal_heartbeat_seconds: float = setting(15.0, "the terminal page's heartbeat",
                                                0.1, 3600)
    terminal_gc_seconds: float = setting(30.0, "how often the terminal GC runs", 0.01, 3600)
    terminal_max_sessions_per_user: int = setting(3, "open terminals per user", 1, 100)
    terminal_start_timeout_seconds: float = setting(10.0, "how long ttyd may take to start",
                                                    0.1, 300)
    terminal_run_dir: str = setting("", "ttyd sockets (empty: `<instance>/run`)")
    terminal_keys_dir: str = setting(
        "", "the per-user terminal keys of mapped logins (empty: `<instance>/user-keys`)")
    ttyd_path: str = setting("", "the ttyd binary (empty: `$TTYD_PATH`, else `ttyd` on PATH)")
    terminal_revoke_check_seconds: float = setting(
        1.0, "how often an open terminal re-checks that its session is still open", 0.05, 60)
    # Terminal recordings (recon.recordings): every session's output, replayed by admins.
    terminal_recording: bool = setting(
        True, "record every terminal session's output (asciicast, gzip) for admins to replay")
    terminal_record_input: bool = setting(
        False, "... and what was typed (off: input carries passwords)")
    terminal_recording_dir: str = setting(
        "", "where recordings are kept (empty: `recordings/` beside the database, i.e. "
        "`<instance>/recordings`)")
    terminal_recording_max_bytes: int = setting(
        50_000_000, "terminal bytes recorded per session; past it recording stops with a "
        "marker and the session goes on", 1024, 10_000_000_000)
    # Live log follows (recon.logs).
    log_streams_max: int = setting(32, "live log streams per dashboard process", 1, 10_000)
    log_streams_per_service: int = setting(8, "live log streams per service", 1, 10_000)
    log_streams_per_user: int = setting(4, "live log streams per user", 1, 100_000)
    log_stream_keepalive_seconds: float = setting(15.0, "SSE comment interval of a stream",
                                                  0.05, 3600)
    log_stream_max_seconds: float = setting(
        3600.0, "the longest a stream runs before the browser resumes it", 0.1, 7 * 86400)
    # Threads held by long-lived responses (terminal WebSockets, log streams, the dashboard's
    # event streams), counted across all workers (SQLite). Each holds one of a worker's
    # threads (`make run`: 2 workers x 64), so the caps stay below what would leave ordinary
    # requests waiting; past one, the request gets 429 `too_many_streams`.
    held_threads_max: int = setting(
        64, "terminal WebSockets, log streams and event streams open at once, in all workers "
        "(keep it below workers x threads: 128 under `make run`)", 1, 100_000)
    held_threads_per_process: int = setting(
        48, "... in one worker (keep it below its threads, 64 under `make run`: the rest "
        "answer every other request)", 1, 100_000)
    held_threads_per_user: int = setting(8, "... per user", 1, 100_000)
    event_streams_per_user: int = setting(
        4, "live event streams (open dashboards) per user; more refresh without one",
        1, 100_000)
    # Retention, pruned by `recon prune` and the background retention task.
    login_failure_retention_hours: float = setting(
        24.0, "failed-login counters older than this are dropped", 0.01, 24 * 3650)
    audit_retention_days: float = setting(365.0, "audit rows older than this are dropped",
                                          0.01, 3650 * 10)
    session_retention_days: float = setting(
        30.0, "login sessions this long past their expiry or logout are dropped", 0.01, 3650)
    terminal_retention_days: float = setting(
        30.0, "closed terminal sessions older than this are dropped", 0.01, 3650)
    terminal_recording_retention_days: float = setting(
        90.0, "terminal recordings not written to for this long are deleted", 0.01, 3650)
    notify_retention_days: float = setting(
        30.0, "sent and given-up notification messages older than this are dropped (pending "
        "ones never)", 0.01, 3650)
    # Rolling actions (recon.rolling).
    rolling_step_timeout: float = setting(
        60.0, "seconds a rolling action's step waits for its unit to be active again (the "
        "settle comes on top)", 1, 3600)
    rolling_settle_seconds: float = setting(
        5.0, "seconds a rolling step's unit must then stay active with the same MainPID and "
        "NRestarts before the step counts as done (0: done at the first `active`); a "
        "request's `settle_seconds` overrides it", 0, 600)


#: Allowed range of every numeric setting (inclusive); a value outside is a config error.
SETTING_RANGES: dict[str, tuple[float, float]] = {
    name: (opt.low, opt.high) for name, _, opt in declared(Settings) if opt.low is not None}


def _cell(value: Any) -> str:
    if isinstance(value, bool):  # as written in recon.toml
        return f"`{str(value).lower()}`"
    return f"`{value}`" if isinstance(value, str) and value else (
        "—" if value == "" else f"{value:g}" if isinstance(value, float) else str(value))


def markdown_table() -> str:
    """The README's settings table, made from :class:`Settings`."""
    rows = ["| setting | default | range | meaning |", "|---|---|---|---|"]
    for name, f, opt in declared(Settings):
        bounds = f"{opt.low:g} – {opt.high:g}" if opt.low is not None else ""
        rows.append(f"| `{name}` | {_cell(f.default)} | {bounds} | {opt.doc} |")
    return "\n".join(rows) + "\n"

