"""Reading what users give the bot: message text from an option or an attached .md/.txt
file, and the choices offered while they type (agents with their roles, recent ids)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

import discord
from discord import app_commands

from agents import Agent
from bot.errors import BotInputError
from messaging.model import Priority
from messaging.store import HistoryEntry

TEXT_SUFFIXES = (".md", ".txt")
MAX_CHOICES = 25  # Discord's limit for autocomplete and select menus
ALL = "all"

PRIORITY_CHOICES = [app_commands.Choice(name=p.value, value=p.value) for p in Priority]


async def attached_text(attachment: discord.Attachment, max_chars: int) -> str:
    """The text of an attached .md or .txt file."""
    suffix = PurePosixPath(attachment.filename).suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise BotInputError(
            f"attachment {attachment.filename!r} is not a .md or .txt file; attach the "
            "message as text"
        )
    if attachment.size > max_chars * 4:
        raise BotInputError(
            f"attachment {attachment.filename!r} is {attachment.size:,} bytes; the most a "
            f"message may hold is {max_chars:,} characters"
        )
    data = await attachment.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BotInputError(
            f"attachment {attachment.filename!r} is not UTF-8 text; save it as UTF-8"
        ) from None


async def body_of(text: str | None, file: discord.Attachment | None, max_chars: int) -> str:
    """The message: the option's text, then the attached file's, either may be absent."""
    parts = [text] if text else []
    if file is not None:
        parts.append(await attached_text(file, max_chars))
    return "\n\n".join(parts)


def label(agent: Agent) -> str:
    text = f"{agent.agent_id} — {agent.role}" if agent.role else agent.agent_id
    if not agent.active:
        text += " (inactive)"
    return text[:100]


def agent_choices(
    agents: Iterable[Agent], typed: str, *, extra: Sequence[str] = ()
) -> list[app_commands.Choice[str]]:
    """Agents whose id or role contains what was typed (the last comma-separated item)."""
    head, _, current = typed.rpartition(",")
    prefix = f"{head}," if head else ""
    needle = current.strip().lower()
    choices = [
        app_commands.Choice(name=word, value=word) for word in extra if needle in word.lower()
    ]
    for agent in agents:
        if needle in agent.agent_id.lower() or needle in agent.role.lower():
            value = prefix + agent.agent_id
            choices.append(app_commands.Choice(name=label(agent), value=value[:100]))
    return choices[:MAX_CHOICES]


def message_choices(entries: Sequence[HistoryEntry]) -> list[app_commands.Choice[str]]:
    choices = []
    for entry in entries:
        m = entry.message
        text = " ".join(m.body.split())[:60]
        name = f"{m.id} → {', '.join(m.recipients)[:20]}: {text}"
        choices.append(app_commands.Choice(name=name[:100], value=m.id))
    return choices[:MAX_CHOICES]


def agent_list(text: str | None) -> list[str]:
    """``"Agent-1, Agent-2"`` → ``["Agent-1", "Agent-2"]``; given but naming no agent is an
    error (spaces are trimmed, other characters stay: they are no part of an id)."""
    if text is None:
        return []
    parts = [part.strip(" ") for part in text.split(",") if part.strip(" ")]
    if not parts:
        raise BotInputError(
            f"no agent named in {text!r}; name agents separated by commas, or leave it out"
        )
    return parts
