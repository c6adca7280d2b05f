"""The benchmark's table: latency rows, then every issue target with its verdict."""

from __future__ import annotations

W = 58


def _row(name: str, s: dict | None) -> str:
    if not s or not s.get("n"):
        return f"{name:<{W}} {'-':>9} {'-':>9} {'-':>5}"
    return f"{name:<{W}} {s['median_ms']:>7.1f}ms {s['p95_ms']:>7.1f}ms {s['n']:>5}"


def _verdict(name: str, value: str, target: str, met: bool | None) -> str:
    mark = {True: "met", False: "MISSED", None: ""}[met]
    return f"{name:<38} {value:>28}  [{target}] {mark}".rstrip()


def rows(r: dict) -> list[str]:
    out = [f"{'measure (paired rounds, shuffled order)':<{W}} {'median':>9} {'p95':>9} {'n':>5}",
           "-" * (W + 26)]
    if "status" in r:
        s, a, l5, l1 = r["status"], r["action"], r["logs_5000"], r["logs_100"]
        out += [_row("1 status fresh=1: RECON via gunicorn", s["recon_fresh"]),
                _row("1 status: floor (bare Paramiko, open transport)", s["floor"]),
                _row("1 status: ssh ControlMaster", s["ssh_controlmaster"]),
                _row("1 status: runbook (fresh ssh process)", s["runbook_fresh_ssh"]),
                _row("1 status: snapshot read GET .../status", s["recon_snapshot"]),
                _row("  parts: static file via gunicorn (no auth, no DB)", s["static_file"]),
                _row("  parts: /healthz (+ SQLite SELECT 1)", s["healthz"]),
                _row("  parts: RECON executor in-process (same cmd)",
                     s["recon_executor_in_process"]),
                _row("  parts: publish to SQLite in-process", s["publish_in_process"]),
                _row("restart: RECON POST (incl. fresh status)", a["recon_restart"]),
                _row("restart: bare sudo restart + show, open transport",
                     a["bare_restart_and_show"]),
                _row(f"logs 5000 ({l5['journal_lines_held']} held): RECON", l5["recon_logs"]),
                _row("logs 5000: bare journalctl, same command", l5["bare_journalctl"]),
                _row("logs 100: RECON", l1["recon_logs"]),
                _row("logs 100: bare journalctl, same command", l1["bare_journalctl"])]
    if "faults" in r:
        fl = r["faults"]["fleet"]
        out += [_row(f"fleet {fl['services_healthy']}: GET /api/services (snapshot)",
                     fl["healthy_fleet"]),
                _row(f"fleet + tarpit, banner-stall, hung host ({fl['services_faulty']} svc)",
                     fl["with_bad_hosts"])]
    if "events" in r:
        ev = r["events"]
        out += [_row("host change -> SSE unit event (from host cmd start)",
                     ev["from_command_start"]),
                _row("  the host-side systemctl call itself", ev["host_systemctl_call"]),
                _row("kill -9 of the main pid -> SSE 'failed' event", ev["kill9_to_failed_event"])]
    return out


def _x(p: dict) -> str:
    """A paired ratio with its interquartile range and the median difference."""
    return (f"{p['ratio_median']}x [{p.get('ratio_p25', '?')}-{p.get('ratio_p75', '?')}] "
            f"{p['diff_median_ms']:+.1f}ms")


def _sync(r: dict) -> list[str]:
    s, a, l5 = r["status"], r["action"], r["logs_5000"]
    fresh, runbook = s["paired_fresh_vs_floor"], s["paired_runbook_vs_fresh"]["ratio_median"]
    return [_verdict("status fresh / floor (paired)", _x(fresh), "<= 1.3x",
                     fresh["ratio_median"] <= 1.3),
            _verdict("runbook / RECON fresh (paired)", _x(s["paired_runbook_vs_fresh"]),
                     ">= 10x", runbook >= 10),
            _verdict("ControlMaster / RECON fresh (paired)",
                     f"{s['paired_controlmaster_vs_fresh']['ratio_median']}x", "info", None),
            _verdict("restart RECON / bare (paired)", _x(a["paired"]), "<= 1.3x",
                     a["paired"]["ratio_median"] <= 1.3),
            _verdict("logs 5000 RECON / bare (paired)", _x(l5["paired"]), "<= 1.5x",
                     l5["paired"]["ratio_median"] <= 1.5),
            _verdict("logs 100 RECON / bare (paired)", _x(r["logs_100"]["paired"]), "info",
                     None)]


def _faults(r: dict) -> list[str]:
    f = r["faults"]
    fl, ld, rc = f["fleet"], f["load"]["by_label"], f["recovery"]
    unexpected = sum(f["load"]["unexpected_5xx_or_errors"].values())
    rec = rc["snapshot_served_again_s"]
    marked = [k for k, v in fl["bad_hosts"].items() if v["state"] == "down" and v["error"]]
    return [_verdict("fleet 50 median", f"{fl['healthy_fleet']['median_ms']} ms", "<= 10 ms",
                     fl["healthy_fleet"]["median_ms"] <= 10),
            _verdict("fleet + bad hosts median", f"{fl['with_bad_hosts']['median_ms']} ms",
                     "<= 50 ms", fl["with_bad_hosts"]["median_ms"] <= 50),
            _verdict("bad hosts marked down", f"{len(marked)}/{len(fl['bad_hosts'])}: "
                     + ",".join(sorted({str(v["error"]) for v in fl["bad_hosts"].values()})),
                     "with error", all(v["error"] for v in fl["bad_hosts"].values())),
            _verdict(f"load {f['load']['clients']} clients {f['load']['seconds']:.0f}s: "
                     "status p99", f"{ld['healthy_status']['p99_ms']} ms", "<= 200 ms",
                     ld["healthy_status"]["p99_ms"] <= 200),
            _verdict("  /healthz p99", f"{ld['healthz']['p99_ms']} ms", "<= 100 ms",
                     ld["healthz"]["p99_ms"] <= 100),
            _verdict("  5xx outside the bad hosts' own", str(unexpected), "0", unexpected == 0),
            _verdict("  throughput", f"{f['load']['rps']} req/s", "info", None),
            _verdict("recovery after SIGCONT", f"{rec} s", "<= 15 s",
                     rec is not None and rec <= 15)]


def _events(r: dict) -> list[str]:
    ev, st = r["events"]["from_command_start"], r["stale_reads"]
    return [_verdict("event latency p95", f"{ev['p95_ms']} ms", "<= 1000 ms",
                     ev["p95_ms"] <= 1000 and not r["events"]["missed"]
                     and not r["events"]["kill9_missed"]),
            _verdict("event latency median", f"{ev['median_ms']} ms", "goal 250 ms",
                     ev["median_ms"] <= 250),
            _verdict("stale reads after actions, 2 workers", f"{st['stale']} / {st['reads']}",
                     "0", st["stale"] == 0)]


def _rest(r: dict) -> list[str]:
    rest = r["rest"]
    return [_verdict(f"at rest, {rest['hosts_configured']} hosts: SSH cmds/host/min",
                     str(rest["commands_per_host_per_minute"]), "goal <= 6",
                     rest["commands_per_host_per_minute"] <= 6),
            _verdict("  RECON CPU at rest", f"{rest['cpu_percent_of_one_core']}% of a core",
                     "info", None),
            _verdict("  RECON memory (RSS / PSS)", f"{rest['rss_mb']} / {rest['pss_mb']} MB",
                     "info", None)]


def _logins(r: dict) -> list[str]:
    out = []
    for key, label in (("many_addresses", "120 addresses"), ("one_address", "one address")):
        s = r["logins"][key]
        h, answers = s["healthz"], s["answers"]
        # 503 is login_busy, the answer past the bound; 0 is a connection that failed.
        errors = sum(v for k, v in answers.items() if int(k) == 0 or int(k) >= 500
                     and int(k) != 503)
        out += [_verdict(f"{s['at_once']} bad logins at once x{s['waves']}, {label}:",
                         ", ".join(f"{k}: {v}" for k, v in answers.items()), "info", None),
                _verdict("  /healthz p99 meanwhile", f"{h['p99_ms']} ms (max {h['max_ms']})",
                         "<= 100 ms", h["p99_ms"] <= 100 and not h["failed"]),
                _verdict("  RSS peak (at rest)",
                         f"{s['rss_mb_peak']} ({s['rss_mb_at_rest']}) MB", "info", None),
                _verdict("  500s or dropped connections", str(errors), "0", errors == 0)]
    return out


def _streams(r: dict) -> list[str]:
    out = []
    for key, label in (("before_caps_lifted", "caps lifted"), ("after_caps_shipped", "shipped")):
        run = r["stream_hold"][key]
        h = run["healthz"]
        value = (f"{h['p99_ms']} ms, {run['healthz_failed']}/{h['n']} failed; streams "
                 f"{run['answered']}+{run['refused_429']}x429+{run['queued']}q")
        after = key == "after_caps_shipped"
        out.append(_verdict(f"/healthz p99, a viewer's {run['streams_tried']} streams, {label}",
                            value, "<= 100 ms" if after else "info",
                            (h["p99_ms"] <= 100 and not run["healthz_failed"]) if after
                            else None))
    return out


def _extras(r: dict) -> list[str]:
    out = []
    t = r.get("terminals")
    if t and "create_to_prompt_ms" in t:
        out.append(_verdict(f"terminal ({t['ttyd'][:9]}) open -> prompt",
                            f"{t['create_to_prompt_ms']['median_ms']} ms", "info", None))
        out.append(_verdict("  10 MB cat: proxy (recorded) / direct to ttyd",
                            f"{t['proxy_vs_direct']}x", "<= 1.1x",
                            t["proxy_vs_direct"] <= 1.1))
        if "proxy_unrecorded_vs_direct" in t:
            out.append(_verdict("  10 MB cat: proxy, recording off / direct",
                                f"{t['proxy_unrecorded_vs_direct']}x", "info", None))
            out.append(_verdict("  10 MB of text: recorded / not recorded",
                                f"{t['text_recorded_vs_unrecorded']}x", "info", None))
    elif t:
        out.append(_verdict("terminal", t.get("skipped", "?"), "info", None))
    m = r.get("terminals_mapped")
    if m and "create_to_prompt_ms" in m:
        ms = m["create_to_prompt_ms"]["median_ms"]
        out.append(_verdict("terminal open -> prompt, mapped user", f"{ms} ms", "<= 300 ms",
                            ms <= 300))
    rp = r.get("replay")
    if rp:
        o, s = rp["open_to_playing_ms"], rp["seek_ms"]
        out.append(_verdict(f"replay 1 h cast ({rp['cast_bytes'] >> 20} MB): open -> playing",
                            f"{o['median_ms']} ms (max {o['max_ms']})", "<= 1000 ms",
                            o["max_ms"] <= 1000))
        out.append(_verdict("  replay: seek to a random moment",
                            f"{s['median_ms']} ms (max {s['max_ms']})", "<= 200 ms",
                            s["max_ms"] <= 200))
    ui = r.get("ui_first_paint")
    if ui:
        p = ui["statuses_painted"]
        out.append(_verdict(f"first paint, {ui['services']} statuses (Chromium)",
                            f"{p['median_ms']} ms (p95 {p['p95_ms']})", "info", None))
    return out


def _config(r: dict) -> list[str]:
    c = r["config_reload"]
    out = []
    for way in ("hand", "api", "cli"):
        a, p = c["applied_by_every_worker"][way], c["state_on_page"][way]
        out += [_verdict(f"config {way}: every worker applied (p95)",
                         f"{a['median_ms']:.0f} / {a['p95_ms']:.0f} ms", "<= 2 s",
                         a["p95_ms"] <= 2000),
                _verdict(f"config {way}: new unit's state on page (p95)",
                         f"{p['median_ms']:.0f} / {p['p95_ms']:.0f} ms", "<= 5 s",
                         p["p95_ms"] <= 5000)]
    failed = sum(c["load_failed"].values())
    out.append(_verdict(f"config: failed requests of {c['clients']} clients",
                        f"{failed} of {c['load_requests']}", "0", failed == 0))
    return out


def _host_page(r: dict) -> list[str]:
    h = r["host_page"]["first_rows"]
    return [_verdict(f"host page, {r['host_page']['units']} units: first rows (p95)",
                     f"{h['median_ms']:.0f} / {h['p95_ms']:.0f} ms", "<= 300 ms",
                     h["p95_ms"] <= 300)]


def _postgres(r: dict) -> list[str]:
    p = r["postgres"]
    return [_verdict("fleet call PostgreSQL / SQLite (paired)", _x(p["paired_fleet"]),
                     "<= 1.3x", p["paired_fleet"]["ratio_median"] <= 1.3),
            _verdict("single status PostgreSQL / SQLite (paired)", _x(p["paired_status"]),
                     "<= 1.3x", p["paired_status"]["ratio_median"] <= 1.3)]


def _replicas(r: dict) -> list[str]:
    rep = r["replicas"]
    split, fail, page = rep["split"], rep["failover"], rep["change_to_page"]
    watched = fail["leases_all_s"]
    shares = " / ".join(str(v) for _, v in sorted(split["per_replica"].items()))
    return [_verdict(f"replicas: {split['hosts']} hosts split between two", shares,
                     "about half each", min(split["per_replica"].values(), default=0)
                     >= split["hosts"] * 0.3 and len(split["per_replica"]) == 2),
            _verdict("replica kill -9: every host watched again", f"{watched} s", "<= 15 s",
                     watched is not None and watched <= 15),
            _verdict("after it: a change on a host on the open page (p95)",
                     f"{page.get('median_ms', 0):.0f} / {page.get('p95_ms', 0):.0f} ms",
                     "<= 1 s", page.get("n", 0) > 0 and page["p95_ms"] <= 1000
                     and page["missed_15s"] == 0)]


def verdicts(r: dict) -> list[str]:
    out = ["-" * (W + 26), "targets (issues 10 and 11):"]
    for key, part in (("status", _sync), ("faults", _faults), ("events", _events),
                      ("rest", _rest), ("logins", _logins), ("stream_hold", _streams),
                      ("config_reload", _config), ("host_page", _host_page),
                      ("postgres", _postgres), ("replicas", _replicas)):
        if key in r:
            out += part(r)
    out += _extras(r)
    m = r["machine"]
    out.append(f"machine: {m['cpus']} cores shared with other runs; load {m['load_at_start']} "
               f"at start, {m.get('load_at_end')} at end (per-row loads in the JSON)")
    return out


def table(r: dict) -> str:
    if "scale" in r:
        from .scalereport import scale_rows
        return "\n".join(rows(r) + verdicts(r) + scale_rows(r["scale"]))
    return "\n".join(rows(r) + verdicts(r))
