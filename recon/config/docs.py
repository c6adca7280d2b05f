"""The README's configuration tables (settings; hosts and services; notification channels) and
``recon.example.toml``, made from the declarations.

``python -m recon.config.docs --write`` rewrites the README blocks between their markers and
the example file; without ``--write`` it lists what is out of date (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import fields
from pathlib import Path
from typing import Any

from recon.config import settings
from recon.config.declare import REQUIRED, Option, declared
from recon.config.health import HealthCheck
from recon.config.models import HostConfig, ServiceConfig
from recon.config.notify import EVENTS, TABLES, ChannelConfig
from recon.config.terminal_users import TerminalLogin, TerminalsConfig

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "python -m recon.config.docs --write"

# What the example file shows: the settings most people change, one host, two services.
EXAMPLE_SETTINGS = ("known_hosts", "refresh_seconds", "monitor_poll_seconds",
                    "monitor_probe_timeout", "history_retention_days", "audit_output_bytes")
EXAMPLE_HOST = "media"
EXAMPLE_SERVICES = (
    {"slug": "peertube", "name": "PeerTube", "host": EXAMPLE_HOST, "unit": "peertube.service",
     "actions": ["status", "start", "stop", "restart", "logs"]},
    {"slug": "downloader", "name": "Bulk Downloader", "host": EXAMPLE_HOST,
     "unit": "pt-downloader.service",
     "actions": ["status", "start", "stop", "restart", "reload", "logs"]},
)
EXAMPLE_HEALTH = {"kind": "http", "url": "http://127.0.0.1:9000/api/v1/ping"}
HEALTH_SHOWN = ("kind", "url", "expect_status", "body", "tls_verify", "interval", "timeout",
                "fail_after", "recover_after")
WIDTH = 100  # the longest line of the example file
COMMENT_AT = 30  # where a key's comment starts on its line, if it fits


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"  # a table cell ends at a bare "|"


def _ordered(value: Any, opt: Option) -> list[Any]:
    if isinstance(value, frozenset):  # no order of its own: the choices' order, else sorted
        return [c for c in opt.choices if c in value] if opt.choices else sorted(value)
    return list(value)


def _default_cell(default: Any, opt: Option) -> str:
    if opt.shown_default:
        return opt.shown_default
    if default is REQUIRED or opt.required:
        return "required"
    if default is None or default in ((), frozenset(), ""):
        return "—"
    if isinstance(default, bool):
        return _code(str(default).lower())
    if isinstance(default, (int, float)):
        return f"{default:g}"
    if isinstance(default, (frozenset, tuple)):
        return _code(" ".join(_ordered(default, opt)))
    return _code(default)


def _allowed_cell(opt: Option) -> str:
    if opt.allowed:
        return opt.allowed
    if opt.choices:
        return ("each " if opt.kind == "list" else "") + "one of " + " ".join(
            _code(c) for c in opt.choices)
    if opt.pattern:
        return ("each " if opt.kind == "list" else "") + _code(opt.pattern.pattern)
    if opt.low is not None:
        return f"{opt.low:g} – {opt.high:g}"
    return ""


def markdown_table() -> str:
    """The README's table of host and service keys."""
    rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for prefix, cls in (("hosts.NAME.", HostConfig), ("services[].", ServiceConfig),
                        ("services[].health.", HealthCheck), ("terminals.", TerminalsConfig),
                        ("terminals.users.USER.", TerminalLogin)):
        for key, f, opt in declared(cls):
            rows.append(f"| `{prefix}{key}` | {_default_cell(f.default, opt)} | "
                        f"{_allowed_cell(opt)} | {opt.doc} |")
    return "\n".join(rows) + "\n"


def notify_table() -> str:
    """The README's table of ``[notify.NAME]`` keys, with the channel types that have each."""
    rows = ["| key | channels | default | allowed | meaning |", "|---|---|---|---|---|"]
    tables = list(dict.fromkeys(table for types in TABLES.values() for table in types))
    for table in tables:
        types = [kind for kind, kind_tables in TABLES.items() if table in kind_tables]
        channels = "all" if len(types) == len(TABLES) else " ".join(map(_code, types))
        for key, f, opt in declared(table):
            rows.append(f"| `{key}` | {channels} | {_default_cell(f.default, opt)} | "
                        f"{_allowed_cell(opt)} | {opt.doc} |")
    return "\n".join(rows) + "\n"


def _toml(value: Any, opt: Option | None = None) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # as people write it; a whole number is valid for a float key
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    items = _ordered(value, opt) if opt else list(value)
    return "[" + ", ".join(_toml(item) for item in items) + "]"


def _commented(line: str, doc: str) -> list[str]:
    if len(line) < COMMENT_AT and COMMENT_AT + 2 + len(doc) <= WIDTH:
        return [f"{line:<{COMMENT_AT}}# {doc}"]
    if len(line) + 3 + len(doc) <= WIDTH:
        return [f"{line}  # {doc}"]
    return textwrap.wrap(doc, WIDTH - 2, initial_indent="# ", subsequent_indent="# ") + [line]


def _table(cls: type, given: dict[str, Any], only: tuple[str, ...] = ()) -> list[str]:
    """Every declared key (or those in ``only``): given, else its example, else its default;
    an optional key with an example is shown commented out."""
    lines = []
    for key, f, opt in declared(cls):
        if opt.kind == "table" or only and key not in only:
            continue  # a sub-table: written after the table's keys (see example_toml)
        if key in given:
            value, on = given[key], True
        elif f.default is REQUIRED:
            value, on = opt.example, True
        elif opt.example is not None:
            value, on = opt.example, False
        else:
            value, on = f.default, True
        lines += _commented(("" if on else "# ") + f"{key} = {_toml(value, opt)}", opt.doc)
    return lines


def example_toml() -> str:
    """The whole of ``recon.example.toml``."""
    lines = [
        "# RECON configuration. Copy to instance/recon.toml (or point RECON_CONFIG at it).",
        "# Relative paths are relative to this file's folder. Every value is validated at "
        "start-up.",
        f"# Made by `{COMMAND}` from recon/config/settings.py and",
        "# recon/config/models.py; README.md, \"Configuration\", lists every key.",
        "", "[settings]",
    ]
    declared_settings = {f.name: f for f in fields(settings.Settings)}
    for name in EXAMPLE_SETTINGS:
        f = declared_settings[name]
        lines += _commented(f"{name} = {_toml(f.default)}", f.metadata["option"].doc)
    lines += ["", f"[hosts.{EXAMPLE_HOST}]", *_table(HostConfig, {})]
    first, *others = EXAMPLE_SERVICES
    lines += ["", "[[services]]", *_table(ServiceConfig, first)]
    lines += ["", "# A health check, run on the host (README \"Health checks\"); other kinds:",
              "# kind \"tcp\" with address (HOST:PORT), kind \"command\" with command (argv).",
              "[services.health]", *_table(HealthCheck, EXAMPLE_HEALTH, only=HEALTH_SHOWN)]
    for service in others:
        lines += ["", "[[services]]", *(f"{k} = {_toml(v)}" for k, v in service.items())]
    lines += [
        "",
        "# Notifications (see README \"Notifications\"): secrets from the environment.",
        "# [notify.team-chat]",
        "# type = \"slack\"",
        "# url_env = \"RECON_SLACK_URL\"",
        f"# events = {_toml(EVENTS)}",
        f"# for_seconds = {_toml(ChannelConfig.for_seconds)}",
    ]
    return "\n".join(lines) + "\n"


def _block_span(text: str, name: str) -> tuple[int, int]:
    begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->"
    return text.index(begin) + len(begin), text.index(end)


def readme_block(text: str, name: str) -> str:
    """What the README holds between its ``<!-- NAME:begin/end -->`` markers."""
    start, stop = _block_span(text, name)
    return text[start:stop]


def _with_block(text: str, name: str, body: str) -> str:
    start, stop = _block_span(text, name)
    return text[:start] + body + text[stop:]


def generated(root: Path = ROOT) -> dict[Path, str]:
    """What each generated file should contain."""
    readme = (root / "README.md").read_text()
    readme = _with_block(readme, "settings", settings.markdown_table())
    readme = _with_block(readme, "config", markdown_table())
    readme = _with_block(readme, "notify", notify_table())
    return {root / "README.md": readme, root / "recon.example.toml": example_toml()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon.config.docs", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the files")
    args = parser.parse_args(argv)
    stale = {path: text for path, text in generated().items()
             if not path.exists() or path.read_text() != text}
    for path, text in stale.items():
        if args.write:
            path.write_text(text)
        print(("rewrote " if args.write else "out of date: ") + str(path.relative_to(ROOT)))
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
