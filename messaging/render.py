"""The text an agent reads: header, priority, body, footer."""

from __future__ import annotations

from messaging.model import Message, MessageType, Priority

_TAGS = {
    MessageType.OPERATOR: "C2A",
    MessageType.AGENT: "A2A",
    MessageType.SYSTEM: "S2A",
    MessageType.BROADCAST: "BROADCAST",
    MessageType.ONBOARDING: "ONBOARDING",
}


def render(message: Message, recipient: str, footer: str = "") -> str:
    """``[C2A] Captain → Agent-3``, a priority line unless normal, the body, the footer."""
    lines = [f"[{_TAGS[message.type]}] {message.sender} → {recipient}"]
    if message.priority is not Priority.NORMAL:
        lines.append(f"Priority: {message.priority.upper()}")
    if message.tags:
        lines.append("Tags: " + ", ".join(message.tags))
    lines.extend(["", message.body])
    if footer:
        lines.extend(["", footer])
    return "\n".join(lines)
