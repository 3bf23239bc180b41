"""A line reader like the prompt of an agent's terminal CLI (Claude Code, Codex, Aider).

Run inside a terminal emulator as ``python -m messaging.screen.linereader RECORD PANE_ID``:
it turns on bracketed paste, puts the tty in raw mode and echoes what arrives. Everything
between ``ESC[200~`` and ``ESC[201~`` is pasted text, taken verbatim except that the
terminal's carriage returns become new lines again; Enter outside a paste submits the whole
input as one message, appended to RECORD as a JSON line (the shape of the chat pages'
records: ``agent_id``, ``text``, ``at``, ``kind``). A ``ready`` record (with the terminal's
``rows`` and ``columns``) comes first, once the prompt is on the terminal's last line; a
``draft`` record holds the input after each paste.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import signal
import sys
import termios
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ESC = "\x1b"
BRACKETED_PASTE_ON = f"{ESC}[?2004h"
BRACKETED_PASTE_OFF = f"{ESC}[?2004l"
PASTE_START = f"{ESC}[200~"
PASTE_END = f"{ESC}[201~"
PROMPT = "› "
ENTER = "\r"
BACKSPACES = ("\x7f", "\x08")
CLEAR_INPUT = "\x03"  # Ctrl+C empties the input, as agent CLIs do
READ_SIZE = 65536


@dataclass
class LineEditor:
    """What a key stream means: feed it decoded input, get back what to echo; each
    submitted text goes to ``submit``, the input after each paste to ``pasted`` (no tty
    needed, so it is testable on its own)."""

    submit: Callable[[str], None]
    pasted: Callable[[str], None] = lambda _text: None
    text: str = ""
    pasting: bool = False
    _escape: str = ""

    def feed(self, data: str) -> str:
        """The echo for ``data``; Enter outside a paste calls ``submit``."""
        return "".join(self._char(char) for char in data)

    def _char(self, char: str) -> str:
        if self._escape or char == ESC:
            return self._escape_char(char)
        if self.pasting:
            return self._add("\n" if char == "\r" else char)
        if char == ENTER:
            text, self.text = self.text, ""
            self.submit(text)
            return f"\r\n  (sent {len(text)} characters)\r\n{PROMPT}"
        if char in BACKSPACES:
            return self._backspace()
        if char == CLEAR_INPUT:
            self.text = ""
            return "^C\r\n" + PROMPT
        if char < " " and char not in "\t\n":
            return ""  # other control keys do nothing here
        return self._add(char)

    def _add(self, char: str) -> str:
        self.text += char
        return "\r\n" if char == "\n" else char

    def _backspace(self) -> str:
        if not self.text or self.text.endswith("\n"):
            return ""  # stays on the current line: the echo cannot go back up
        self.text = self.text[:-1]
        return "\b \b"

    def _escape_char(self, char: str) -> str:
        """Collect one escape sequence; bracketed paste marks toggle pasting, the rest
        (arrows, function keys, Alt+key) are dropped."""
        sequence = self._escape + char
        if len(sequence) == 1:
            self._escape = sequence
            return ""
        if sequence[1] not in "[O" or (sequence[1] == "O" and len(sequence) == 3):
            self._escape = ""
            return ""
        if sequence[1] == "[" and len(sequence) > 2 and "@" <= char <= "~":
            self._escape = ""
            if sequence == PASTE_START:
                self.pasting = True
            elif sequence == PASTE_END and self.pasting:
                self.pasting = False
                self.pasted(self.text)
            return ""
        self._escape = sequence
        return ""


class Record:
    """Appends one JSON line per event to the record file."""

    def __init__(self, path: Path, pane_id: str) -> None:
        self.pane_id = pane_id
        self._file = path.open("a", encoding="utf-8")

    def write(self, text: str, kind: str = "message", **extra: int) -> None:
        line = {"agent_id": self.pane_id, "text": text, "at": time.time(), "kind": kind, **extra}
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()

    def draft(self, text: str) -> None:
        self.write(text, kind="draft")

    def close(self) -> None:
        self._file.close()


@contextlib.contextmanager
def raw_terminal(fd: int, out: TextIO) -> Iterator[None]:
    """The tty in raw mode with bracketed paste on, restored however the block ends."""
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    out.write(BRACKETED_PASTE_ON)
    out.flush()
    try:
        yield
    finally:
        out.write(BRACKETED_PASTE_OFF)
        out.flush()
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run(record_path: Path, pane_id: str) -> None:
    """Read the terminal until it hangs up or the process is terminated."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(0))
    fd, out = sys.stdin.fileno(), sys.stdout
    record = Record(record_path, pane_id)
    try:
        with raw_terminal(fd, out):
            size = _greet(out, pane_id)
            record.write("", kind="ready", rows=size.lines, columns=size.columns)
            _loop(fd, out, record)
    finally:
        record.close()


def _greet(out: TextIO, pane_id: str) -> os.terminal_size:
    """A header, then the prompt on the last line of the screen, where it stays."""
    size = os.get_terminal_size(out.fileno())
    rows = size.lines
    header = f"{pane_id} — agent CLI (Enter sends; a paste is one message)"
    out.write(f"{ESC}[2J{ESC}[H{header}" + "\r\n" * max(rows - 1, 1) + PROMPT)
    out.flush()
    return size


def _loop(fd: int, out: TextIO, record: Record) -> None:
    editor = LineEditor(record.write, record.draft)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        try:
            data = os.read(fd, READ_SIZE)
        except OSError:  # the terminal went away
            return
        if not data:
            return
        out.write(editor.feed(decoder.decode(data)))
        out.flush()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m messaging.screen.linereader RECORD_FILE PANE_ID")
    run(Path(sys.argv[1]), sys.argv[2])
