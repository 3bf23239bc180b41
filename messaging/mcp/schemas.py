"""What each tool is called, says of itself and takes (JSON Schema), as the agent CLIs list
them to their model."""

from __future__ import annotations

from typing import Any

SEND = "send_message"
LIST_INBOX = "list_inbox"
READ = "read_message"
ACKNOWLEDGE = "acknowledge"
SET_STATUS = "set_status"
POST_DEVLOG = "post_devlog"
LIST_AGENTS = "list_agents"

_ID = {"type": "string", "description": "A message id (16 hex digits), as list_inbox shows."}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    SEND: (
        "Send a message to other agents of the swarm, from you. It is stored first, then "
        "delivered (typed into each agent's chat, or put in its inbox) and the outcome for "
        "each recipient comes back.",
        _object(
            {
                "to": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": 'Agent ids such as "Agent-2", or ["all"] for every other '
                    "active agent.",
                },
                "text": {"type": "string", "description": "The message."},
                "priority": {
                    "type": "string",
                    "enum": ["normal", "urgent", "critical"],
                    "description": "Default normal.",
                },
                "reply_to": {**_ID, "description": "The id of the message this answers."},
                "thread": {
                    **_ID,
                    "description": "The id of any message of a thread: this one answers the "
                    "newest message of that thread.",
                },
                "ack_required": {
                    "type": "boolean",
                    "description": "Ask each recipient to acknowledge it (reminded if not).",
                },
            },
            ["to", "text"],
        ),
    ),
    LIST_INBOX: (
        "The messages that reached you: unread ones first (oldest first), then the rest, "
        "newest first; each with its id, sender, time, priority and whether you read or "
        "acknowledged it.",
        _object(
            {
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 200,
                    "description": "At most this many (default 20).",
                },
                "unread_only": {"type": "boolean", "description": "Only unread ones."},
            },
            [],
        ),
    ),
    READ: (
        "Read one message of your inbox in full (it is marked read), or its whole thread.",
        _object(
            {
                "message_id": _ID,
                "thread": {
                    "type": "boolean",
                    "description": "The whole thread it belongs to, oldest first.",
                },
            },
            ["message_id"],
        ),
    ),
    ACKNOWLEDGE: (
        "Acknowledge messages of your inbox (the sender asked for it, or to say you have them).",
        _object(
            {"message_ids": {"type": "array", "items": _ID, "description": "Message ids."}},
            ["message_ids"],
        ),
    ),
    SET_STATUS: (
        "Say what you are doing: your status.json, which the operator and the other agents see.",
        _object(
            {
                "state": {
                    "type": "string",
                    "description": "One line, e.g. ready, working, blocked, done.",
                },
                "task": {"type": "string", "description": "What you work on (one line)."},
                "progress": {"type": "string", "description": "How far, e.g. 3 of 5 or 60%."},
            },
            ["state"],
        ),
    ),
    POST_DEVLOG: (
        "Post a devlog: what you did and why, to the operator's devlog channel. It is kept "
        "and posted once.",
        _object(
            {
                "title": {"type": "string", "description": "One line saying what it is about."},
                "text": {"type": "string", "description": "The devlog (markdown)."},
            },
            ["title", "text"],
        ),
    ),
    LIST_AGENTS: (
        "The agents of the swarm: role, whether active, how messages reach them, their status "
        "and how many messages each has unread or queued.",
        _object({}, []),
    ),
}
