"""asciicast v2 files, gzip-compressed, written as a terminal's frames pass and read back.

A recording is one file per terminal session: a header line, then one event line per frame,
``[seconds since the header's start, code, data]`` with ``o`` (output), ``i`` (input),
``r`` (resize, ``"COLSxROWS"``) and ``m`` (a marker: the size cap was reached). Each
WebSocket of the session appends one gzip member (a gzip file may hold several; readers
concatenate them), so a reconnect adds to the same recording.

The writer runs in the relay's thread: it only encodes and hands the line to a buffered
zlib stream. Every ``FLUSH_SECONDS`` it flushes (``Z_SYNC_FLUSH`` + ``write``, no
``fsync``), so a crash loses at most that last second; :func:`read_text` reads a file whose
last member was cut short and drops the cut line.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

FLUSH_SECONDS = 1.0
# Level 6 (zlib's default) costs ~3x level 1 in CPU for ~15% smaller terminal output; the
# relay thread pays for it, so the cheap level wins (see bench: proxy with recording).
COMPRESS_LEVEL = 1
SUFFIX = ".cast.gz"


def open_private(path: Path) -> int:
    """An append-only descriptor of ``path``, created 0600 (and made 0600 if it was not)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return fd


class CastWriter:
    """Appends events to one recording; one instance per WebSocket of the session.

    ``started`` is the recording's start (epoch seconds), the time base of every event;
    ``used`` the payload bytes recorded before (earlier WebSockets), counted against
    ``max_bytes``. Errors (a full disk) stop the writer, never the caller."""

    def __init__(self, path: Path, started: float, max_bytes: int, used: int = 0):
        self.path, self.started, self.max_bytes, self.used = path, started, max_bytes, used
        self.new = not path.exists() or path.stat().st_size == 0
        self._file = os.fdopen(open_private(path), "ab", buffering=1 << 16)
        self._gz = gzip.GzipFile(fileobj=self._file, mode="wb",
                                 compresslevel=COMPRESS_LEVEL, mtime=0)
        # Event times on the wall clock's base, advanced by the monotonic clock (a clock
        # step during the session must not reorder events).
        self._offset = time.time() - started
        self._mono0 = time.monotonic()
        self._last_flush = self._mono0
        self._decoders = {code: codecs.getincrementaldecoder("utf-8")("replace")
                          for code in ("o", "i")}
        self.capped = max_bytes > 0 and used >= max_bytes
        self.failed: str | None = None
        self.header_written = not self.new

    def now(self) -> float:
        return self._offset + time.monotonic() - self._mono0

    def header(self, width: int, height: int, title: str, extra: dict | None = None) -> None:
        """The first line of a new recording (a later WebSocket sends a resize instead)."""
        if self.header_written:
            self.event("r", f"{width}x{height}")
            return
        self.header_written = True
        head = {"version": 2, "width": width, "height": height,
                "timestamp": int(self.started), "title": title,
                "env": {"TERM": "xterm-256color"}, **(extra or {})}
        self._write(json.dumps(head, ensure_ascii=False) + "\n")

    def data(self, code: str, raw: bytes) -> None:
        """Output (``o``) or input (``i``) bytes; past the cap, one marker and then nothing."""
        if self.capped or self.failed or not raw:
            return
        over = self.max_bytes and self.used + len(raw) > self.max_bytes
        if over:  # what still fits is kept, however the output happened to be chunked
            raw = raw[:self.max_bytes - self.used]
        self.used += len(raw)
        text = self._decoders[code].decode(raw) if raw else ""
        if text:
            self.event(code, text)
        if over:
            self.capped = True
            self.event("m", f"recording stopped: the size cap of {self.max_bytes} bytes "
                            f"was reached (the session went on)", force=True)

    def event(self, code: str, data: str, force: bool = False) -> None:
        if (self.capped and not force) or self.failed:
            return
        if not self.header_written:
            self.header(80, 24, "")
        self._write(f"[{self.now():.6f}, {json.dumps(code)}, "
                    f"{json.dumps(data, ensure_ascii=False)}]\n")

    def tick(self) -> None:
        """Flush when the last flush is ``FLUSH_SECONDS`` old (the relay calls this often)."""
        if not self.failed and time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        try:
            self._gz.flush()  # Z_SYNC_FLUSH, then the buffered file's write
        except OSError as exc:
            self._fail(exc)

    def close(self) -> None:
        try:
            self._gz.close()  # the member's trailer (the file itself stays ours to close)
        except (OSError, ValueError) as exc:
            self._fail(exc)
        try:
            self._file.close()
        except OSError as exc:
            self._fail(exc)

    def _write(self, line: str) -> None:
        try:
            self._gz.write(line.encode("utf-8", "surrogatepass"))
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        self.failed = self.failed or f"{type(exc).__name__}: {exc}"


def iter_text(path: Path, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The cast's bytes, decompressed piece by piece: every gzip member in turn, a cut-short
    last one (a crash mid-member) as far as its last whole line."""
    held = b""  # after the last newline: yielded only once more follows
    with open(path, "rb") as f:
        d = zlib.decompressobj(wbits=31)
        while True:
            pending = b""
            if d.eof:  # the next member starts in what the last one left over
                pending, d = d.unused_data, zlib.decompressobj(wbits=31)
            data = pending or f.read(chunk)
            if not data:
                break
            try:
                out = d.decompress(data)
            except zlib.error:
                break  # a damaged member: keep what came before it
            if not out:
                continue
            out, cut = held + out, out.rfind(b"\n")
            cut = len(held) + cut if cut >= 0 else -1
            if cut >= 0:
                yield out[:cut + 1]
                held = out[cut + 1:]
            else:
                held = out
            if len(held) > (64 << 20):  # no newline in 64 MB: not a cast
                break


def read_text(path: Path) -> str:
    """The whole cast as text (see :func:`iter_text`)."""
    return b"".join(iter_text(path)).decode("utf-8", "replace")


def duration(text: str) -> float:
    """The time of the last event of a cast's text (0 when it has none)."""
    end = text.rstrip("\n").rfind("\n")
    if end < 0:
        return 0.0
    try:
        return float(json.loads(text[end + 1:])[0])
    except (ValueError, IndexError, TypeError):
        return 0.0
