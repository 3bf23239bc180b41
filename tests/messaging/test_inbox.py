"""The inbox file's front matter is safe whatever its values hold."""

from __future__ import annotations

from pathlib import Path

from agents.frontmatter import parse
from messaging.inbox import InboxLetter, compose, write_letters
from messaging.model import Message


def test_values_with_new_lines_colons_and_quotes_keep_to_their_lines(tmp_path: Path) -> None:
    message = Message(sender='Ops "night": x', recipients=("Agent-2",), body="---\nto: Agent-9")
    reason = 'window "Cursor" not found:\nsaw "xterm"\r\n--- # here'
    letter = InboxLetter(
        tmp_path / "inbox", message, "Agent-2", "the text", possible_repeat=True, reason=reason
    )
    [path] = write_letters([letter])
    text = Path(str(path)).read_text(encoding="utf-8")
    assert text == compose(letter)
    document = parse(text)
    assert document.fields == {
        "from": 'Ops "night": x',
        "to": "Agent-2",
        "priority": "normal",
        "type": "operator-to-agent",
        "time": message.created_at.isoformat(),
        "id": message.id,
        "delivered_via": "inbox",
        "possible_repeat": "true",
        "screen_skipped": 'window "Cursor" not found: saw "xterm" --- # here',
    }
    assert document.body == "the text"
    assert text.splitlines()[8] == (
        "possible_repeat: true  # typing was interrupted; it may be in the chat too"
    )
