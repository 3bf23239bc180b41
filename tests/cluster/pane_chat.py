"""A terminal chat input for a tmux pane, the stand-in of an agent CLI in the cluster drills:
a ``❯`` prompt holding what is typed or pasted (bracketed paste, several lines), Enter sends
it, Ctrl+C or Ctrl+U empties it. Each message sent is appended to the witness file (one
JSON string a line, flushed to disk) before the input is drawn empty again: the file is what
the agent received, the tests' evidence that nothing was typed twice or lost.

It shares with the real CLIs only what the tmux lane reads (a prompt mark, the cursor at
the caret, the input emptied once sent); the real CLIs are in tests/agent_clis.

With a second argument, Enter sends nothing while that file exists: an agent too busy to
take the message, so a test can catch the desk between its paste and the outcome.

Run: ``python pane_chat.py WITNESS [HOLD_ENTER_WHILE]``."""

from __future__ import annotations

import codecs
import json
import os
import sys
import termios
import tty

PASTE_START, PASTE_END = b"\x1b[200~", b"\x1b[201~"


class Chat:
    def __init__(self, witness: str, hold: str | None = None) -> None:
        self.witness = witness
        self.hold = hold
        self.text = ""
        self.sent = 0
        self.pasting = False
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def draw(self) -> None:
        rows = self.text.split("\n")
        screen = f"\x1b[2J\x1b[Hsent {self.sent}\r\n❯ " + "\r\n".join(rows)
        os.write(1, screen.encode("utf-8"))

    def send(self) -> None:
        if not self.text or (self.hold is not None and os.path.exists(self.hold)):
            return
        with open(self.witness, "a", encoding="utf-8") as file:
            file.write(json.dumps(self.text) + "\n")
            file.flush()
            os.fsync(file.fileno())
        self.sent += 1
        self.text = ""

    def take(self, data: bytes) -> bytes:
        """Handle what can be handled of ``data``; what is left (an unfinished escape)."""
        while data:
            if data.startswith(PASTE_START):
                self.pasting, data = True, data[len(PASTE_START) :]
            elif data.startswith(PASTE_END):
                self.pasting, data = False, data[len(PASTE_END) :]
            elif data[:1] == b"\x1b":
                if len(data) < len(PASTE_START) and PASTE_START.startswith(data):
                    return data  # the rest of the marker comes with the next read
                end = 2
                while end < len(data) and not 0x40 <= data[end] <= 0x7E:
                    end += 1
                data = data[end + 1 :]  # another key's escape: ignored
            else:
                self.key(data[:1])
                data = data[1:]
        return b""

    def key(self, byte: bytes) -> None:
        if byte in (b"\r", b"\n"):
            if self.pasting:
                self.text += "\n"
            else:
                self.send()
        elif byte in (b"\x03", b"\x15"):
            self.text = ""
        elif byte == b"\x7f":
            self.text = self.text[:-1]
        elif byte >= b" " or byte == b"\t":
            self.text += self.decoder.decode(byte)


def main() -> None:
    chat = Chat(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    saved = termios.tcgetattr(0)
    tty.setraw(0)
    os.write(1, b"\x1b[?2004h")
    try:
        chat.draw()
        left = b""
        while data := os.read(0, 65536):
            left = chat.take(left + data)
            chat.draw()
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)


if __name__ == "__main__":
    main()
