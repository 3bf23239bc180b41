"""Long answers: split at line ends into a few messages, or attached when longer still."""

from __future__ import annotations

from bot.present import pieces
from bot.reply import MAX_PIECES, layout


def test_pieces_respect_the_limit_and_drop_nothing() -> None:
    lines = [f"line {n} " + "x" * (n % 90) for n in range(400)]
    text = "\n".join(lines)
    parts = pieces(text)
    assert all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == text


def test_a_line_longer_than_a_message_is_cut_inside() -> None:
    parts = pieces("y" * 4500)
    assert [len(p) for p in parts] == [2000, 2000, 500]


def test_short_text_is_one_message() -> None:
    assert layout("hello") == (["hello"], None)


def test_very_long_text_is_attached_whole() -> None:
    text = "header\n" + "z" * (2000 * MAX_PIECES + 1)
    parts, file = layout(text)
    assert file is not None and file.filename == "reply.md"
    assert file.fp.read().decode() == text
    assert len(parts) == 1 and "attached as reply.md" in parts[0]
