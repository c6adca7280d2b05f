"""The scale section's table: one column per row (host count), issue 23's target beside it."""

from __future__ import annotations

L = 50  # label width
C = 16  # column width


def _get(d: dict | None, *path: str):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _cell(value, target=None) -> str:
    """``value`` with ok/NO when a target (a predicate) applies."""
    if value is None:
        return "-"
    text = str(value)
    if target is not None:
        try:
            text += " ok" if target(value) else " NO"
        except TypeError:
            pass
    return text


def scale_rows(s: dict) -> list[str]:
    rows = s.get("rows", {})
    ns = list(rows)
    t = s.get("tree", {})
    dirty = f" (+{t['dirty_files']} changed files)" if t.get("dirty_files") else ""
    out = ["-" * (L + C * max(1, len(ns)) + 20),
           f"scale (issue 23): RECON {t.get('commit', '?')[:10]} (recon/ tree "
           f"{t.get('recon_tree', '?')[:10]}) from {t.get('path')}{dirty}; "
           "host side: one real systemd container",
           f"{'hosts x 10 units':<{L}}" + "".join(f"{n:>{C}}" for n in ns) + "   target"]

    def line(label: str, fn, target_text: str = "", target=None) -> None:
        cells = []
        for n in ns:
            try:
                v = fn(rows[n])
            except (KeyError, TypeError, IndexError):
                v = None
            cells.append(_cell(v, target))
        out.append(f"{label:<{L}}" + "".join(f"{c:>{C}}" for c in cells)
                   + (f"   {target_text}" if target_text else ""))

    c = lambda r, *p: _get(r, "clean", *p)  # noqa: E731
    d = lambda r, *p: _get(r, "dead", *p)  # noqa: E731
    line("every unit observed after start (s)", lambda r: c(r, "observe", "all_observed_s")
         if c(r, "observe", "all_observed_s") is not None
         else f">{c(r, 'observe', 'cap_s'):.0f}", "<= 60",
         lambda v: isinstance(v, float | int) and v <= 60)
    line("  units observed by 60 s / all", lambda r: f"{c(r, 'observe', 'observed_at_60s')}/"
         f"{c(r, 'observe', 'units')}")
    line("  half / 90 % observed (s)", lambda r: f"{c(r, 'observe', 'half_observed_s')}/"
         f"{c(r, 'observe', 'p90_observed_s')}")
    line("Traceback/supervisor of/failed lines (RECON)", lambda r: "/".join(
        str(c(r, "log", k)) for k in ("traceback_recon", "supervisor_of", "recon_failed")),
         "0")
    line("  paramiko's own connection tracebacks", lambda r: c(r, "log", "traceback_paramiko"))
    line("  'could not publish' / lease lost", lambda r: f"{c(r, 'log', 'could_not_publish')}/"
         f"{c(r, 'log', 'lease_lost')}")
    line("'database is locked' lines", lambda r: c(r, "log", "database_is_locked"), "0",
         lambda v: v == 0)
    line("GET /api/services p50 (ms)", lambda r: c(r, "fleet_call", "fleet", "median_ms"),
         "<= 50", lambda v: v <= 50)
    line("GET /api/services p95 (ms)", lambda r: c(r, "fleet_call", "fleet", "p95_ms"),
         "<= 150", lambda v: v <= 150)
    line("  its size (bytes)", lambda r: c(r, "fleet_call", "bytes"))
    line("  server side duration_ms p50", lambda r: c(r, "fleet_call", "fleet_server_side",
                                                      "median_ms"))
    line("/healthz p99 meanwhile (ms)", lambda r: c(r, "fleet_call", "healthz", "p99_ms"),
         "<= 100", lambda v: v <= 100)
    line("Chromium first paint of statuses (ms, median)",
         lambda r: c(r, "ui", "statuses_painted", "median_ms")
         or ("none in 120 s" if "Timeout" in c(r, "ui", "error") else c(r, "ui", "error")[:14]))
    line("host change -> open page p95 (ms)",
         lambda r: c(r, "ui", "change_to_page", "p95_ms"), "<= 1000", lambda v: v <= 1000)
    line("  changes missed (15 s) / samples",
         lambda r: f"{c(r, 'ui', 'change_to_page', 'missed_15s')}/"
         f"{c(r, 'ui', 'change_to_page', 'n')}")
    line("host side from outside RECON: banner p50/p95 ms", lambda r: "{median_ms:.0f}/"
         "{p95_ms:.0f}".format(**c(r, "host_probe", "banner")))
    line("  fresh login + show p50/p95 ms, failed", lambda r: "{median_ms:.0f}/{p95_ms:.0f}".format(
        **c(r, "host_probe", "fresh_login_and_show"))
         + f", {sum(c(r, 'host_probe', 'failed').values())}")
    line("at rest: RECON CPU (% of one core)",
         lambda r: c(r, "rest", "cpu_percent_of_one_core"))
    line("  per host (% of one core)", lambda r: c(r, "rest", "per_host", "cpu_percent"))
    line("  RSS (MB) / per host (KB)", lambda r: f"{c(r, 'rest', 'rss_mb')}/"
         f"{c(r, 'rest', 'per_host', 'rss_kb')}")
    line("  threads / per host", lambda r: f"{c(r, 'rest', 'threads')}/"
         f"{c(r, 'rest', 'per_host', 'threads')}")
    line("  open descriptors / per host", lambda r: f"{c(r, 'rest', 'fds')}/"
         f"{c(r, 'rest', 'per_host', 'fds')}")
    line("  SSH commands/host/min (mean, max)", lambda r: "{mean}, {max}".format(
        **c(r, "rest", "ssh_commands_per_host_per_minute")))
    line("  SSH logins/host/min", lambda r: c(r, "rest", "ssh_logins_per_host_per_minute"))
    line("  container: CPU (% of a core) / RSS sum (MB)",
         lambda r: f"{c(r, 'rest', 'container', 'cpu_percent_of_one_core')}/"
         f"{c(r, 'rest', 'container', 'rss_mb')}")
    line("healthy rows' age p50/p95 (s): no dead hosts", lambda r: "{median}/{p95}".format(
        **c(r, "freshness", "age_s")))
    line("  never observed (share of samples)", lambda r: c(r, "freshness",
                                                            "never_observed_share"))
    line("  with dead hosts (+N x fraction)", lambda r: "{median}/{p95}".format(
        **d(r, "freshness", "age_s")), "as fresh")
    line("  never observed, with dead hosts", lambda r: d(r, "freshness",
                                                          "never_observed_share"))
    line("  dead entries (mode)", lambda r: f"{d(r, 'dead')} ({d(r, 'mode')})")
    line("attempts / dead host / min in window (med/max)", lambda r: "{median}/{max}".format(
        **d(r, "attempts", "per_dead_host_per_minute")), "<= 1")
    line("  window (minutes after start)", lambda r: "-".join(
        f"{x / 60:g}" for x in d(r, "window_s")), "issue: after 5")
    line("  all dead hosts' attempts since start", lambda r: d(r, "attempts",
                                                               "total_since_start"))
    line("  every healthy unit observed (s)", lambda r: d(r, "observe", "all_observed_s"))
    line("  Traceback/supervisor of/failed/locked", lambda r: "/".join(
        str(d(r, "log", k)) for k in ("traceback_recon", "supervisor_of", "recon_failed",
                                      "database_is_locked")), "0")
    for n in ns:
        if "error" in rows[n]:
            out.append(f"row {n} failed: {rows[n]['error']}")
    return out
