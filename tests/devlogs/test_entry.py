"""A devlog's title from its file, and its posts split at paragraph boundaries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devlogs.entry import Devlog, InvalidDevlogError, from_file, render, split_parts


def test_long_text_splits_at_paragraphs_and_keeps_every_word() -> None:
    paragraphs = [f"paragraph {n} " + "word " * (40 + n * 7) for n in range(40)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split_parts(text)
    assert len(parts) > 3
    assert all(len(part) <= 2000 for part in parts)
    assert "\n\n".join(parts) == text  # cut only between paragraphs
    assert all(part.startswith("paragraph ") for part in parts)


def test_a_paragraph_longer_than_a_post_is_cut_at_lines_then_anywhere() -> None:
    lines = "\n".join("line " + "x" * 90 for _ in range(50))  # one paragraph of 4,800
    one_line = "y" * 4500
    parts = split_parts(lines + "\n\n" + one_line)
    assert all(len(part) <= 2000 for part in parts)
    assert "".join(parts).replace("\n", "") == (lines + one_line).replace("\n", "")


def test_titles_come_from_front_matter_then_heading_then_name() -> None:
    assert from_file("a.md", "---\ntitle: Faster sync\n---\nDone.") == ("Faster sync", "Done.")
    assert from_file("a.md", "# Fixed the login\n\nIt works.") == ("Fixed the login", "It works.")
    assert from_file("cache_warmup-2.md", "Warmed.") == ("cache warmup 2", "Warmed.")
    with pytest.raises(InvalidDevlogError, match="empty"):
        from_file("a.md", "# Only a title\n")


def test_a_post_starts_with_agent_title_and_summary() -> None:
    devlog = Devlog(
        1, "Agent-3", "Sync *fast*", "Body.", datetime.now(UTC), summary="It is\nfaster."
    )
    [post] = render(devlog)
    assert post.content == "**Agent-3** · devlog: **Sync \\*fast\\***\n> It is faster.\n\nBody."
    assert post.embed is None and post.attachment is None


def test_beyond_four_posts_one_short_embed_carries_the_whole_devlog() -> None:
    body = "\n\n".join(f"part {n} " + "x" * 1500 for n in range(5))
    devlog = Devlog(7, "Agent-1", "Big", body, datetime.now(UTC), summary="Short.")
    [post] = render(devlog)
    assert post.content == "**Agent-1** · devlog: **Big**"
    assert post.embed is not None and post.embed["description"] == "Short."
    assert post.attachment is not None and post.attachment[0] == "devlog-7.md"
    assert post.attachment[1].decode().endswith(body + "\n")
