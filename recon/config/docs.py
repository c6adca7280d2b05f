"""The README's configuration tables, made from the declarations.

``python -m recon.config.docs --write`` rewrites the README blocks between their markers;
without ``--write`` it lists what is out of date (exit status 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import settings
from .declare import REQUIRED, Option, declared
from .models import HostConfig, ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "python -m recon.config.docs --write"


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"  # a table cell ends at a bare "|"


def _ordered(value: Any, opt: Option) -> list[Any]:
    if isinstance(value, frozenset):  # no order of its own: the choices' order, else sorted
        return [c for c in opt.choices if c in value] if opt.choices else sorted(value)
    return list(value)


def _default_cell(default: Any, opt: Option) -> str:
    if opt.shown_default:
        return opt.shown_default
    if default is REQUIRED:
        return "required"
    if default is None or default in ((), frozenset()):
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
        return "each one of " + " ".join(_code(c) for c in opt.choices)
    if opt.pattern:
        return ("each " if opt.kind == "list" else "") + _code(opt.pattern.pattern)
    if opt.low is not None:
        return f"{opt.low:g} – {opt.high:g}"
    return ""


def markdown_table() -> str:
    """The README's table of host and service keys."""
    rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for prefix, cls in (("hosts.NAME.", HostConfig), ("services[].", ServiceConfig)):
        for key, f, opt in declared(cls):
            rows.append(f"| `{prefix}{key}` | {_default_cell(f.default, opt)} | "
                        f"{_allowed_cell(opt)} | {opt.doc} |")
    return "\n".join(rows) + "\n"


def _with_block(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->"
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[:start] + body + text[stop:]


def generated(root: Path = ROOT) -> dict[Path, str]:
    """What each generated file should contain."""
    readme = (root / "README.md").read_text()
    readme = _with_block(readme, "settings", settings.markdown_table())
    readme = _with_block(readme, "config", markdown_table())
    return {root / "README.md": readme}


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
