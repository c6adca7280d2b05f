"""Request values every route reads the same way: integers in the query string and in a path,
ISO times, and the JSON body. A bad one is a 400 naming it, never a 500.

Python is generous where RECON cannot be: ``str.isdigit()`` is true for '²' (``int()`` then
fails), ``int()`` reads '١٢' and refuses 5000 digits, SQLite stores no integer past 2**63-1,
``json.loads`` recurses once per nesting level and returns lone surrogates (``"\\udc00"``) that
no later UTF-8 encode survives. So an integer here is ASCII digits within its bounds, and the
JSON body reader (:class:`ReconRequest`, installed by :func:`init_app`) refuses a body nested
too deep or carrying a lone surrogate with 400 ``invalid_body`` before any route sees it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Flask, Request, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from recon.core.clock import epoch
from recon.core.errors import InvalidBody, InvalidParameter

SQLITE_INT_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only (no '²', no '١'); 19 digits hold 2**63-1
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def parse_int(name: str, raw: str, lo: int, hi: int, example: int | None = None) -> int:
    """``raw`` as an integer in ``lo..hi`` (ASCII digits only), else InvalidParameter."""
    if not _DIGITS.fullmatch(raw) or not lo <= int(raw) <= hi:
        raise InvalidParameter(name, f"{name} must be an integer {lo}-{hi}",
                               f"Pass e.g. ?{name}={example or lo}.")
    return int(raw)


def int_arg(name: str, default: int | None, lo: int, hi: int) -> int | None:
    """``?name=N`` as an integer in ``lo..hi`` (``default`` when absent)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    return parse_int(name, raw, lo, hi, default)


def time_arg(name: str) -> float | None:
    """``?name=`` as an ISO 8601 time, in epoch seconds (None when absent). Its date and
    time of day are read as UTC and a UTC offset is not applied, as when SQLite compared
    them with the stored text."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return epoch(datetime.fromisoformat(raw).replace(tzinfo=None))
    except ValueError:
        raise InvalidParameter(name, f"{name} must be an ISO 8601 time",
                               f"Pass e.g. ?{name}=2026-11-22T10:00:00Z.") from None


class StorableInt(IntegerConverter):
    """``<int:name>`` in a route: at most 19 ASCII digits, within SQLite's 64-bit integers;
    anything else is a 404 for every method (a ValidationError would make werkzeug answer
    405 to a DELETE whose GET twin exists), and no view gets an id the database cannot look
    up."""

    regex = r"[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if not -SQLITE_INT_MAX - 1 <= number <= SQLITE_INT_MAX:
            raise NotFound(f"{value} is past the largest id RECON stores ({SQLITE_INT_MAX})")
        return number


def _lone_surrogate(value: Any) -> str | None:
    """The first string (key or value) in a parsed body that holds a lone surrogate. A loop,
    not a recursion: the body may nest as deep as the parser allowed."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


class ReconRequest(Request):
    """Flask's request with a JSON body reader that refuses, with 400 ``invalid_body``, what
    the parser accepts but RECON cannot use. A body that is not JSON at all is left to the
    route as before (None when it reads with ``silent=True``)."""

    def get_json(self, force: bool = False, silent: bool = False,
                 cache: bool = True) -> Any | None:
        try:
            body = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise InvalidBody("the JSON body is nested too deeply to read",
                              "Send a flat JSON object, as the API table shows.") from None
        if body is not None and _lone_surrogate(body) is not None:
            raise InvalidBody("the JSON body holds a lone surrogate (\\ud800-\\udfff): "
                              "not a character",
                              "Send valid Unicode text: a surrogate escape only as half of a "
                              "pair.")
        return body


def init_app(app: Flask) -> None:
    """Read path integers and JSON bodies as above (before any blueprint is registered)."""
    app.url_map.converters["int"] = StorableInt
    app.request_class = ReconRequest
