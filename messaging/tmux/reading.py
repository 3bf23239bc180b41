"""Reading a terminal agent's pane as text: the input the cursor is in, and whether the
agent shows it is working.

The agent CLIs keep the terminal's cursor at the caret of their input (Gemini CLI hides it
there), and the input starts with a prompt mark (``❯`` Claude Code, ``›`` Codex CLI,
``>`` Gemini CLI and Aider), often between two rules or inside a box. What the input holds
is the text from the prompt mark to the cursor's row and the rows of the box below it, the
box drawn around it taken away. A mark alone at the start of a row (``>``, Aider's
prompt_toolkit) repeats on every row of the input, so the cursor's row must carry it too:
after a submission Aider's cursor leaves the input, which stays on screen as its echo.

An empty input may show a hint where the text goes ("Ask Codex to do anything", "Type your
message or @path/to/file"). It is told from text by where the cursor is and how it is
drawn: the cursor right after the prompt mark, and the words after it faint (dim, or grey).
While they work the CLIs show an indicator (``esc to interrupt``, ``esc to cancel``, a
spinner and a verb ending in ``…``, Aider's ``Waiting for``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from messaging.tmux.client import Snapshot

# the first row of an input: optional box edge, the prompt mark, the text
_PROMPT = re.compile(r"^(?P<lead>\s*(?:[│┃|]\s*)?)(?P<mark>❯|›|>)(?:\s|$)(?P<text>.*)$")
# a row that closes an input: a rule or the bottom of a box
_EDGE = re.compile(r"^\s*[─━═╰└╭┌]{3,}")
_BOX_SIDES = re.compile(r"^\s*[│┃|]|[│┃|]\s*$")
# a paste the CLI shows as a placeholder instead of its text
PASTE_PLACEHOLDER = re.compile(r"\[Pasted (?:text|Content)[^\]]*\]", re.IGNORECASE)
_BUSY = (
    re.compile(r"esc to interrupt", re.IGNORECASE),  # Claude Code, Codex CLI
    re.compile(r"esc to cancel", re.IGNORECASE),  # Gemini CLI
    re.compile(r"^\W*Waiting for \S"),  # Aider, until the answer streams (no input then)
    re.compile(r"^\s*[✻✽✶✳✢·*]\s+[A-Z][\w-]*…"),  # Claude Code's spinner and verb
)
LOOK_ABOVE = 60  # how many rows above the cursor an input may start
BUSY_ABOVE = 6  # how many rows above the input the working indicator stands
_ESCAPE = re.compile(
    r"\x1b\[(?P<sgr>[0-9;:]*)m|\x1b\[[0-9;:?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
)


@dataclass(frozen=True)
class Reading:
    """What the pane says: the text in the input ("" when empty, None when no input shows)
    and the working indicator seen, if any."""

    input: str | None
    busy: str | None
    rows: int = 0  # rows the input takes on screen
    caret_on_blank_row: bool = False  # the cursor stands on an empty last row of the input


def read_pane(shot: Snapshot) -> Reading:
    lines = [plain(line) for line in shot.lines]
    if not lines:
        return Reading(None, None)
    cursor_x, cursor_row = shot.cursor
    cursor_row = min(max(cursor_row, 0), len(lines) - 1)
    rows = _input_rows(lines, cursor_row)
    if rows is None:
        return Reading(None, _busy(lines, len(lines)))
    start, end = rows
    busy = _busy(lines, start)
    if (
        end == start + 1
        and cursor_row == start
        and _hint_only(shot.lines[start], lines[start], cursor_x)
    ):
        return Reading("", busy)
    caret_blank = cursor_row == end - 1 > start and _blank_row(lines[cursor_row])
    return Reading(_input_text(lines[start:end]), busy, end - start, caret_blank)


def shows(reading: Reading, text: str) -> bool:
    """Whether the input holds ``text`` (its end: an input shows a long text scrolled) or
    the CLI's placeholder for a paste."""
    if not reading.input:
        return False
    if PASTE_PLACEHOLDER.search(reading.input):
        return True
    tail = _compact(text)[-48:]
    return bool(tail) and tail in _compact(reading.input)


def plain(line: str) -> str:
    """A row captured with its escape sequences (``capture-pane -e``), as text."""
    return _ESCAPE.sub("", line)


def _input_rows(lines: list[str], cursor_row: int) -> tuple[int, int] | None:
    """The rows of the input the cursor is in (first, past the last), or None when the
    cursor is in no input."""
    for row in range(cursor_row, max(cursor_row - LOOK_ABOVE, -1), -1):
        found = _PROMPT.match(lines[row])
        if found:
            break
        if row != cursor_row and _EDGE.match(lines[row]):
            return None  # the cursor is below a rule with no prompt mark in between
    else:
        return None
    if not _repeats(found):
        return row, cursor_row + 1
    if row != cursor_row:
        return None  # Aider's cursor left its input: the rows above are its echo
    start, end = row, row + 1
    while start > 0 and _repeats(_PROMPT.match(lines[start - 1])):
        start -= 1
    while end < len(lines) and _repeats(_PROMPT.match(lines[end])):
        end += 1
    return start, end


def _blank_row(line: str) -> bool:
    """A row of an input holding no text (a mark, an indent or a box side at most)."""
    found = _PROMPT.match(line)
    return not _BOX_SIDES.sub("", found.group("text") if found else line).strip()


def _repeats(found: re.Match[str] | None) -> bool:
    """A bare ``>`` at the start of a row: prompt_toolkit's mark, on every row of its input."""
    return found is not None and not found.group("lead") and found.group("mark") == ">"


def _hint_only(styled: str, prompt_line: str, cursor_x: int) -> bool:
    """Whether a one-row input shows a hint, not text: the cursor stands right after the
    mark and the words after it are faint."""
    found = _PROMPT.match(prompt_line)
    assert found is not None
    before_cursor = prompt_line[found.end("mark") : _index_at_column(prompt_line, cursor_x)]
    return not before_cursor.strip() and _faint_after(styled, cursor_x)


def _index_at_column(line: str, column: int) -> int:
    width = 0
    for index, char in enumerate(line):
        if width >= column:
            return index
        width += _width(char)
    return len(line)


def _faint_after(styled: str, column: int) -> bool:
    """Whether the first visible character at or after ``column`` of a ``capture-pane -e``
    row is drawn faint: dim, or in a grey."""
    faint = False
    at = 0
    position = 0
    while position < len(styled):
        escape = _ESCAPE.match(styled, position)
        if escape:
            if escape.group("sgr") is not None:
                faint = _faint_after_sgr(faint, escape.group("sgr"))
            position = escape.end()
            continue
        char = styled[position]
        position += 1
        if at >= column and not char.isspace():
            return faint
        at += _width(char)
    return False


def _faint_after_sgr(faint: bool, parameters: str) -> bool:
    """Follow one SGR sequence: whether text after it is faint (dim or grey)."""
    codes = [int(code) if code.isdigit() else 0 for code in re.split(r"[;:]", parameters)]
    index = 0
    while index < len(codes):
        code = codes[index]
        if code in (0, 22, 39):
            faint = False
        elif code in (2, 90):
            faint = True
        elif code in range(30, 38) or code in range(91, 98):
            faint = False
        elif code == 38 and index + 2 < len(codes) and codes[index + 1] == 5:
            colour = codes[index + 2]
            faint = colour == 8 or 232 <= colour <= 250
            index += 2
        elif code == 38 and index + 4 < len(codes) and codes[index + 1] == 2:
            red, green, blue = codes[index + 2 : index + 5]
            faint = max(red, green, blue) - min(red, green, blue) <= 16 and 64 <= red <= 200
            index += 4
        index += 1
    return faint


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _input_text(rows: list[str]) -> str:
    first = _PROMPT.match(rows[0])
    assert first is not None
    parts = [first.group("text")]
    for row in rows[1:]:
        found = _PROMPT.match(row) if _repeats(first) else None
        parts.append(found.group("text") if found else row)
    return "\n".join(_BOX_SIDES.sub("", part).strip() for part in parts).strip()


def _busy(lines: list[str], input_row: int) -> str | None:
    """The working indicator in the status rows (below the input) or just above it."""
    near = lines[max(0, input_row - BUSY_ABOVE) : input_row] + lines[input_row:]
    for line in near:
        if any(pattern.search(line) for pattern in _BUSY):
            return " ".join(line.split())
    return None


def _compact(text: str) -> str:
    """The text without white space (a CLI wraps, indents and turns tabs into spaces, or
    into ``^I`` as Aider shows them)."""
    return re.sub(r"\s+|\^I", "", text)
