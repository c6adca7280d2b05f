"""Changing ``recon.toml`` from the browser or the CLI, safely.

The file stays the single source of truth and pleasant to edit by hand: an edit is made on
the parsed document with tomlkit, which keeps comments, order and formatting, then

1. validated with the same checks as at start-up (:func:`recon.config.load.parse_text`),
   so an invalid result is refused with every error and the file is untouched;
2. checked against the revision the editor saw (``base``), so two admins' edits never
   silently overwrite each other;
3. written atomically (a temporary file beside it, fsync, rename) with the old file kept in
   ``backups/`` beside it (the newest :data:`KEEP_BACKUPS`).

One edit at a time per file: a lock file beside it (``flock``) orders editors in every
process. Every running process then applies the new file by itself (recon.liveconfig).
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Comment, Table, Whitespace
from tomlkit.toml_document import TOMLDocument

from recon.config.load import parse_text, revision_of
from recon.config.models import ConfigError, ReconConfig
from recon.core.errors import ApiError

KEEP_BACKUPS = 20


@dataclass(frozen=True)
class Edit:
    """One applied edit: the file before and after, and the config it now holds."""

    summary: str
    before: bytes
    after: bytes
    config: ReconConfig

    @property
    def diff(self) -> str:
        """The change as a unified diff (what the audit entry shows)."""
        name = self.config.source.name
        return "".join(difflib.unified_diff(
            self.before.decode("utf-8", "replace").splitlines(keepends=True),
            self.after.decode("utf-8", "replace").splitlines(keepends=True),
            f"{name} (before)", f"{name} (after)"))


def invalid(exc: ConfigError) -> ApiError:
    """A refused edit: the same error list as a refused start, nothing written."""
    return ApiError(422, "config_invalid", "recon.toml would be invalid; nothing changed",
                    "Fix the values named in `errors` and try again.",
                    errors=[e.replace(f"{exc.source}: ", "") for e in exc.errors])


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _backup(path: Path, raw: bytes) -> None:
    folder = path.parent / "backups"
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = folder / f"{path.name}.{stamp}.{revision_of(raw)}"
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
    old = sorted(folder.glob(f"{path.name}.*"), key=lambda p: p.stat().st_mtime)
    for stale in old[:-KEEP_BACKUPS]:
        stale.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one rename (a reader sees the old or the new file,
    never half of one), keeping its mode (0600 when it is new)."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


def edit_file(path: Path, change: Callable[[TOMLDocument], str], *, base: str | None = None,
              check_keys: bool = True, env: dict[str, str] | None = None) -> Edit:
    """Apply ``change`` (which edits the document and returns a one-line summary) to the
    file at ``path``: validated, checked against ``base``, backed up, written atomically.

    Raises ApiError ``config_changed`` (409) when the file is no longer at ``base``, and
    ``config_invalid`` (422) with every error when the result would not load."""
    with _locked(path):
        before = path.read_bytes()
        if base is not None and revision_of(before) != base:
            raise ApiError(409, "config_changed", "recon.toml changed since you read it "
                           f"(now revision {revision_of(before)}, you saw {base})",
                           "Reload the page to see the current config, then make the change "
                           "again.", revision=revision_of(before))
        doc = tomlkit.parse(before.decode("utf-8"))
        summary = change(doc)
        after = tomlkit.dumps(doc).encode("utf-8")
        try:
            config = parse_text(after, path, env, check_keys=check_keys)
        except ConfigError as exc:
            raise invalid(exc) from None
        if after != before:
            _backup(path, before)
            write_atomically(path, after)
        return Edit(summary=summary, before=before, after=after, config=config)


def preview(path: Path, change: Callable[[TOMLDocument], str], *,
            check_keys: bool = True, env: dict[str, str] | None = None) -> ReconConfig:
    """The config ``change`` would make, validated, with nothing written (for a form that
    shows the sudoers lines of a choice before it is saved). Raises like :func:`edit_file`."""
    raw = path.read_bytes()
    doc = tomlkit.parse(raw.decode("utf-8"))
    change(doc)
    try:
        return parse_text(tomlkit.dumps(doc).encode("utf-8"), path, env, check_keys=check_keys)
    except ConfigError as exc:
        raise invalid(exc) from None


# ---- the changes the browser and the CLI make -------------------------------------------

def _take_trailing(table: Table) -> list[Any]:
    """The comments and blank lines at the end of ``table``'s body, removed from it: tomlkit
    files a comment above the next table as the end of the previous one, so a table inserted
    between them must take it along to stay below it."""
    body = table.value.body
    taken: list[Any] = []
    while body and body[-1][0] is None and isinstance(body[-1][1], (Comment, Whitespace)):
        taken.insert(0, body.pop()[1])
    return taken


def _end_with_blank_line(table: Any) -> None:
    """A blank line after ``table``'s last key, so a table added after it stands apart."""
    if not isinstance(table, Table):
        return
    body = table.value.body
    if not body or not (body[-1][0] is None and isinstance(body[-1][1], Whitespace)):
        table.add(tomlkit.nl())


def _last_table(doc: TOMLDocument) -> Any:
    last = None
    for value in doc.values():
        if isinstance(value, Table):
            last = value
            if value.is_super_table() and len(value):
                last = list(value.values())[-1]
    return last


def _services(doc: TOMLDocument) -> AoT:
    services = doc.get("services")
    if services is None:
        services = doc["services"] = tomlkit.aot()
    return services


def add_service(values: dict[str, Any]) -> Callable[[TOMLDocument], str]:
    """A change that appends one ``[[services]]`` table with ``values`` (only keys given;
    empty lists and None left out, so the file shows only what was chosen)."""
    def change(doc: TOMLDocument) -> str:
        slug = values.get("slug")
        if any(s.get("slug") == slug for s in _services(doc)):
            raise ApiError(409, "service_exists", f"a service with slug {slug!r} exists",
                           "Choose another slug, or remove that service first.")
        table = tomlkit.table()
        for key, value in values.items():
            if value is None or value == [] or value == ():
                continue
            table[key] = sorted(value) if isinstance(value, (set, frozenset)) else value
        services = _services(doc)
        if len(services):
            _end_with_blank_line(services[-1])
        else:
            _end_with_blank_line(_last_table(doc))
        services.append(table)
        return f"service {slug} added ({values.get('unit')} on {values.get('host')})"
    return change


def remove_service(slug: str) -> Callable[[TOMLDocument], str]:
    """A change that removes the ``[[services]]`` table with ``slug``."""
    def change(doc: TOMLDocument) -> str:
        services = _services(doc)
        for i, table in enumerate(services):
            if table.get("slug") == slug:
                del services[i]
                if not len(services):
                    del doc["services"]
                return f"service {slug} removed"
        raise ApiError(404, "not_found", f"no service with slug {slug!r} in recon.toml",
                       "GET /api/services lists the configured services.")
    return change


def add_host(name: str, values: dict[str, Any]) -> Callable[[TOMLDocument], str]:
    """A change that adds ``[hosts.NAME]`` with ``values``."""
    def change(doc: TOMLDocument) -> str:
        hosts = doc.get("hosts")
        if hosts is None:
            hosts = doc["hosts"] = tomlkit.table(is_super_table=True)
        if name in hosts:
            raise ApiError(409, "host_exists", f"a host named {name!r} exists",
                           "Choose another name, or remove that host first.")
        table = tomlkit.table()
        for key, value in values.items():
            if value is not None:
                table[key] = value
        last = list(hosts.values())[-1] if len(hosts) else None
        trailing = _take_trailing(last) if isinstance(last, Table) else []
        _end_with_blank_line(last)
        for item in trailing or [tomlkit.nl()]:
            table.add(item)
        hosts[name] = table
        return f"host {name} added ({values.get('user')}@{values.get('address')})"
    return change


def remove_host(name: str) -> Callable[[TOMLDocument], str]:
    """A change that removes ``[hosts.NAME]``; refused while services still run on it."""
    def change(doc: TOMLDocument) -> str:
        hosts = doc.get("hosts") or {}
        if name not in hosts:
            raise ApiError(404, "not_found", f"no host named {name!r} in recon.toml",
                           "GET /api/hosts lists the configured hosts.")
        used = [s.get("slug") for s in doc.get("services", []) if s.get("host") == name]
        if used:
            raise ApiError(409, "host_in_use", f"host {name!r} still has services: "
                           + ", ".join(map(str, used)), "Remove its services first.")
        del hosts[name]
        return f"host {name} removed"
    return change
