"""The relay's tap: ttyd's ``tty`` protocol read from the frames the proxy relays anyway.

ttyd 1.7's messages start with a command byte. From ttyd (``up``): ``0`` output, ``1``
window title, ``2`` preferences. From the browser (``down``): ``{`` the JSON hello
(``AuthToken``, ``columns``, ``rows``), ``0`` input, ``1`` a resize (JSON), ``2``/``3``
pause/resume. A message may reach the relay in several pieces (WebSocket fragments, or a
frame larger than one read): the command byte is in its first piece only, so the tap keeps
each direction's current command until the message ends.

Output becomes ``o`` events; input ``i`` events only when the admin turned input recording
on (input carries passwords); the hello opens the recording (its size is the header's) and
a resize is an ``r`` event. Nothing here can stop the terminal: a failure ends recording.
"""

from __future__ import annotations

import json
import logging

from recon.recordings.cast import CastWriter

log = logging.getLogger("recon.recordings")
_SMALL = 4096  # the hello and a resize are short JSON; anything longer is not one


class Tap:
    """Fed every message piece the relay forwards; writes the recording."""

    def __init__(self, writer: CastWriter, title: str, record_input: bool):
        self.writer, self.title, self.record_input = writer, title, record_input
        self._command = {"up": b"", "down": b""}  # the command of the message in progress
        self._json = bytearray()
        self.broken = False

    def message(self, side: str, data: bytes | str, finished: bool) -> None:
        """One piece of a message that came from ``side`` (``up``: ttyd, ``down``: browser)."""
        if self.broken:
            return
        try:
            self._message(side, data.encode() if isinstance(data, str) else data, finished)
        except Exception:  # never the terminal's problem
            self.broken = True
            log.exception("recording stopped after an unexpected error")

    def _message(self, side: str, data: bytes, finished: bool) -> None:
        command = self._command[side]
        if not command:
            command, data = data[:1], data[1:] if data[:1] != b"{" else data
        self._command[side] = b"" if finished else command
        if side == "up":
            if command == b"0":
                self.writer.data("o", data)
            return
        if command == b"0":
            if self.record_input:
                self.writer.data("i", data)
        elif command in (b"{", b"1"):
            if len(self._json) + len(data) <= _SMALL:
                self._json += data
            if finished:
                self._sized(command, bytes(self._json))
                self._json.clear()

    def _sized(self, command: bytes, raw: bytes) -> None:
        try:
            size = json.loads(raw)
            cols, rows = int(size["columns"]), int(size["rows"])
        except (ValueError, KeyError, TypeError):
            return
        if not (0 < cols <= 10000 and 0 < rows <= 10000):
            return
        if command == b"{":
            self.writer.header(cols, rows, self.title)
        else:
            self.writer.event("r", f"{cols}x{rows}")

    def tick(self) -> None:
        if not self.broken:
            self.writer.tick()

    def close(self) -> None:
        self.writer.close()
