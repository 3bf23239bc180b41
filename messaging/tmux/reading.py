"""Reading a terminal agent's pane as text: the input the cursor is in, and whether the
agent shows it is working.

The agent CLIs draw their input at the cursor, starting with a prompt mark (``❯``, ``›``,
``>``), often between two rules or inside a box, and while they work they show an
indicator (``esc to interrupt``, ``esc to cancel``, a spinner with a verb ending in ``…``).
What the input holds is the text from the prompt mark down to the cursor's line and the
lines of the box below it, with the box drawn around it and the CLI's hint for an empty
input taken away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from messaging.tmux.client import Snapshot

# the first line of an input: optional box edge, the prompt mark, the text
_PROMPT = re.compile(r"^\s*(?:[│┃|]\s*)?(?:❯|›|>)(?:\s|$)(?P<text>.*)$")
# a line that closes an input: a rule or the bottom of a box
_EDGE = re.compile(r"^\s*[─━═╰└╭┌-]{3,}")
_BOX_SIDES = re.compile(r"^\s*[│┃|]|[│┃|]\s*$")
# a paste the CLI shows as a placeholder instead of its text
PASTE_PLACEHOLDER = re.compile(r"\[Pasted (?:text|Content)[^\]]*\]", re.IGNORECASE)
# what the agent CLIs show while they work (near the input, or in the status line)
_BUSY = (
    re.compile(r"esc to interrupt", re.IGNORECASE),  # Claude Code, Codex CLI
    re.compile(r"esc to cancel", re.IGNORECASE),  # Gemini CLI
    re.compile(r"^\W*Waiting for \S"),  # Aider, until the answer streams (no input then)
    re.compile(r"^\s*[✻✽✶✳✢·*⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏◐◓◑◒]\s+[A-Z][\w-]*(?:ing|ed)?…"),  # a spinner and a verb
)
# the hint an empty input shows, which is no text of anyone's
_HINTS = (
    re.compile(r"^Type your message or @path/to/file$"),  # Gemini CLI
    re.compile(r'^Try ".*"$'),  # Claude Code
)
LOOK_ABOVE = 40  # how many lines above the cursor an input may start
BUSY_ABOVE = 4  # how many lines above the input the working indicator stands


@dataclass(frozen=True)
class Reading:
    """What the pane says: the text in the input ("" when empty, None when no input shows)
    and the working indicator seen, if any."""

    input: str | None
    busy: str | None


def read_pane(shot: Snapshot) -> Reading:
    lines = list(shot.lines)
    cursor_row = min(max(shot.cursor[1], 0), len(lines) - 1) if lines else 0
    start = _prompt_row(lines, cursor_row)
    if start is None:
        return Reading(None, _busy(lines, len(lines)))
    end = start + 1
    while end < len(lines) and not _EDGE.match(lines[end]) and end <= max(cursor_row, start):
        end += 1
    text = _input_text(lines[start:end])
    return Reading(text, _busy(lines, start))


def shows(reading: Reading, text: str) -> bool:
    """Whether the input holds ``text`` (its end, as the input shows a long text scrolled)
    or the CLI's placeholder for a paste."""
    if not reading.input:
        return False
    if PASTE_PLACEHOLDER.search(reading.input):
        return True
    held = _compact(reading.input)
    wanted = _compact(text)
    tail = wanted[-48:]
    return bool(tail) and tail in held


def _prompt_row(lines: list[str], cursor_row: int) -> int | None:
    """The row of the prompt mark of the input the cursor is in."""
    for row in range(cursor_row, max(cursor_row - LOOK_ABOVE, -1), -1):
        if _PROMPT.match(lines[row]):
            return row
        if row != cursor_row and _EDGE.match(lines[row]):
            return None  # the cursor is below a rule with no prompt mark in between
    return None


def _input_text(rows: list[str]) -> str:
    first = _PROMPT.match(rows[0])
    assert first is not None
    parts = [first.group("text"), *rows[1:]]
    text = "\n".join(_BOX_SIDES.sub("", part).strip() for part in parts).strip()
    return "" if any(hint.match(text) for hint in _HINTS) else text


def _busy(lines: list[str], input_row: int) -> str | None:
    """The working indicator in the status lines (below the input) or just above it."""
    near = lines[max(0, input_row - BUSY_ABOVE) : input_row] + lines[input_row:]
    for line in near:
        for pattern in _BUSY:
            found = pattern.search(line)
            if found:
                return " ".join(line.split())
    return None


def _compact(text: str) -> str:
    """The text without white space (a CLI wraps, indents and turns tabs into spaces, or
    into ``^I`` as Aider shows them)."""
    return re.sub(r"\s+|\^I", "", text)
