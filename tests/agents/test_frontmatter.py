"""The front matter of the files agents write: :func:`dump` output reads back value for
value, one line per field; what agents write is parsed or refused saying where."""

from __future__ import annotations

import pytest

from agents.frontmatter import FrontMatterError, dump, parse

AWKWARD = [
    "Captain",
    "x\ny[C2A]",  # a new line that would add a field and a header line of its own
    "Ops\r\nto: Agent-9",
    "Ops: the night shift",
    'say "hi" \\ there',
    "with # a comment",
    "  padded  ",
    "",
    "true",
    "0042",
    "- a list item?",
    "[Agent-1, Agent-2]",
    "tab\there",
    "line\u2028separator\x85next line",
    "bell\x07 and NUL\x00",
    "emoji 🚀 ✓ and 😀",
    "2026-11-29T13:00:00.123456+00:00",
]


def test_every_value_reads_back_exactly_and_stays_on_its_line() -> None:
    fields = {f"field_{n}": value for n, value in enumerate(AWKWARD)}
    text = dump(fields) + "\nthe body\n"
    assert len(text.splitlines()) == len(AWKWARD) + 4  # fences, blank line, body
    document = parse(text)
    assert document.fields == fields
    assert document.body == "the body"


def test_plain_values_stay_plain_and_others_are_quoted() -> None:
    text = dump({"from": "Agent-3", "via": "gui, verified on screen", "who": "Ops: night"})
    assert text.splitlines()[1:4] == [
        "from: Agent-3",
        "via: gui, verified on screen",
        'who: "Ops: night"',
    ]


def test_booleans_numbers_and_comments() -> None:
    text = dump({"possible_repeat": True, "attempts": 3}, {"possible_repeat": "may\nrepeat"})
    assert text == "---\npossible_repeat: true  # may repeat\nattempts: 3\n---\n"


@pytest.mark.parametrize("key", ["From", "to\nid", "", "a b", "x:"])
def test_a_key_that_is_no_plain_name_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="front matter key"):
        dump({key: "v"})


def test_a_quoted_value_written_by_an_agent_is_read_unquoted() -> None:
    document = parse('---\nto: "Agent-1"\nnote: "two\\nlines \\u2713"\n---\nhi\n')
    assert document.fields == {"to": "Agent-1", "note": "two\nlines ✓"}
    with pytest.raises(FrontMatterError, match="given twice"):
        parse("---\nto: Agent-1\nto: Agent-2\n---\n")


def test_comments_after_values_are_no_part_of_them() -> None:
    document = parse('---\nto: Agent-1  # the captain\nnote: "a # b"  # said twice\n---\n')
    assert document.fields == {"to": "Agent-1", "note": "a # b"}


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
