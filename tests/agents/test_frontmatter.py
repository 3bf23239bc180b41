"""The front matter of the files agents write."""

from __future__ import annotations

import pytest

from agents.frontmatter import FrontMatterError, parse


def test_fields_lists_and_body() -> None:
    document = parse("---\nTo: [Agent-1, 'Agent-2']\n# a comment\nack: a1, b2\n---\n\nHello\n")
    assert document.values("to") == ["Agent-1", "Agent-2"]
    assert document.values("ack") == ["a1", "b2"]
    assert document.values("reply-to") == []
    assert document.body == "Hello"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello", "no front matter"),
        ("---\nto: Agent-1\nhello", "no closing '---'"),
        ("---\nto: Agent-1\nto: Agent-2\n---\nx", "'to' is given twice"),
        ("---\njust words\n---\nx", "line 2 'just words' is not 'key: value'"),
    ],
)
def test_malformed_front_matter_says_where(text: str, reason: str) -> None:
    with pytest.raises(FrontMatterError, match=reason):
        parse(text)


def test_optional_front_matter() -> None:
    assert parse("# Title\n\ntext", required=False).fields == {}
