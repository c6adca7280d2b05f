"""A ``recon.toml`` key is declared once, on the dataclass field it fills.

:func:`option` puts the key's TOML name, its allowed values and its documentation into the
field's metadata; :func:`read_options` checks a table against those declarations and
:mod:`recon.config.docs` writes the README tables and ``recon.example.toml`` from the same
metadata.

Used by :mod:`recon.config` (hosts, services) and :mod:`recon.config.notify` (channels), which
:mod:`recon.config` imports: so this module lives beside both packages and imports nothing of
RECON's (inside ``recon.config`` it closed an import cycle through the package's
``__init__``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

#: The default of a key that must be given.
REQUIRED: Any = MISSING

_KINDS = {bool: "bool", int: "int", float: "number", str: "str", tuple: "list",
          frozenset: "list"}


@dataclass(frozen=True)
class Option:
    """How a key is written and which values it takes. Messages may use ``{value!r}``,
    ``{pattern}``, ``{low:g}``, ``{high:g}`` and ``{choices}``."""

    doc: str
    key: str = ""  # the TOML key where it differs from the field's name
    # str, int, number (int or float), bool, list (of strings) or table (a sub-table that
    # its own declarations check: services[].health)
    kind: str = "str"
    pattern: re.Pattern[str] | None = None  # of a string, or of each item of a list
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()  # the string, or each item of a list, is one of these
    problem: str = ""  # the message for a refused value
    item_problem: str = ""  # the message for each item not among the choices
    # The message for a value of the wrong TOML type, which then counts as not given.
    kind_problem: str = ""
    # Must be given although the field has a default: the default serves the tables that share
    # the dataclass but lack the key (an email channel needs smtp_host, a webhook has none).
    required: bool = False
    example: Any = None  # recon.example.toml shows it instead of the default
    shown_default: str = ""  # the README's default cell, where the value says too little
    allowed: str = ""  # the README's allowed cell, where the pattern says too little

    def message(self, template: str, value: Any) -> str:
        pattern = self.pattern.pattern if self.pattern else ""
        return template.format(value=value, pattern=pattern, low=self.low, high=self.high,
                               choices=", ".join(self.choices))

    def problems(self, value: Any, required: bool) -> list[str]:
        """Why ``value`` is refused (empty: it is not)."""
        if self.problem:
            template = self.problem
        elif self.pattern:
            template = "must match {pattern}"
        elif self.low is not None:
            template = "must be between {low:g} and {high:g}"
        else:
            template = "expected " + self.kind
        if not is_kind(value, self.kind) or self._refuses(value, required):
            return [self.message(template, value)]
        return [self.message(self.item_problem, item) for item in value
                if self.choices and item not in self.choices] if self.kind == "list" else []

    def _refuses(self, value: Any, required: bool) -> bool:
        """Whether a value of the right kind is refused as a whole."""
        if self.kind == "table":
            return False  # its own keys are checked by its own declarations
        if self.kind in ("str", "list") and required and not value:
            return True
        if self.kind == "list":
            return bool(self.pattern) and not all(self.pattern.fullmatch(v) for v in value)
        if self.kind == "str":
            return bool(self.pattern and not self.pattern.fullmatch(value)
                        or self.choices and value not in self.choices)
        return self.low is not None and not self.low <= value <= self.high


def option(default: Any, doc: str, *, kind: str = "", repr: bool = True, **spec: Any) -> Any:
    """A dataclass field that is also a recon.toml key (``REQUIRED``: no default);
    ``repr=False`` keeps a secret out of the dataclass's repr."""
    kind = kind or _KINDS.get(type(default), "str")
    return field(default=default, repr=repr,
                 metadata={"option": Option(doc, kind=kind, **spec)})


def declared(cls: type) -> Iterator[tuple[str, Field, Option]]:
    """(TOML key, field, option) of each declared field of ``cls``, in field order."""
    for f in fields(cls):
        if "option" in f.metadata:
            yield f.metadata["option"].key or f.name, f, f.metadata["option"]


def is_kind(value: Any, kind: str) -> bool:
    # bool is an int in Python; a port of `true` must still be refused.
    if kind == "bool" or isinstance(value, bool):
        return kind == "bool" and isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind == "table":
        return isinstance(value, dict)
    return isinstance(value, {"str": str, "int": int, "number": (int, float)}[kind])


def _cast(value: Any, default: Any) -> Any:
    if isinstance(default, (frozenset, tuple)):
        return type(default)(dict.fromkeys(value))  # file order, repeats dropped
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        return type(default)(value)
    return value


def unknown_keys(cls: type, raw: dict[str, Any], where: str, errors: list[str]) -> None:
    known = {key for key, _, _ in declared(cls)}
    errors.extend(f"{where}.{key}: unknown key" for key in sorted(set(raw) - known))


def read_options(cls: type, raw: dict[str, Any], where: str, errors: list[str], *,
                 only: Collection[str] | None = None, skip: Collection[str] = (),
                 name_types: bool = False) -> dict[str, Any]:
    """The values of ``cls``'s declared keys in ``raw`` by field name, defaults filled in; a
    refused key is reported to ``errors`` and left out.

    ``name_types``: a value of the wrong TOML type is reported as "expected TYPE" (where the
    key declares no ``kind_problem``) and then counts as missing (how host keys were always
    reported)."""
    values: dict[str, Any] = {}
    for key, f, opt in declared(cls):
        if f.name in skip or only is not None and f.name not in only:
            continue
        required = f.default is MISSING or opt.required
        if key not in raw and not required:
            values[f.name] = f.default
            continue
        value = raw.get(key)
        kind_problem = opt.kind_problem or (f"expected {opt.kind}" if name_types else "")
        if kind_problem and key in raw and not is_kind(value, opt.kind):
            errors.append(f"{where}.{key}: {kind_problem}")
            if not required:
                continue
            value = None
        refused = opt.problems(value, required)
        errors.extend(f"{where}.{key}: {problem}" for problem in refused)
        if not refused:
            values[f.name] = _cast(value, f.default)
    return values
