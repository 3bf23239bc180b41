"""The form a long message is typed into: a modal with a paragraph field, and a priority
field where the command did not ask for one."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.errors import ErrorHandler
from messaging.model import Priority

log = logging.getLogger(__name__)

TEXT_INPUT_LIMIT = 4_000  # Discord's most for one text field
OnText = Callable[[discord.Interaction[Any], str, str], Awaitable[None]]


class MessageModal(discord.ui.Modal):
    """Calls ``on_text(interaction, body, priority)`` when submitted."""

    def __init__(
        self,
        title: str,
        on_text: OnText,
        errors: ErrorHandler,
        *,
        where: str,
        priority: str | None = None,
    ) -> None:
        super().__init__(title=title[:45], timeout=15 * 60)
        self.on_text = on_text
        self.errors = errors
        self.where = where
        self.fixed_priority = priority
        self.body: discord.ui.TextInput[MessageModal] = discord.ui.TextInput(
            label="Message",
            style=discord.TextStyle.paragraph,
            max_length=TEXT_INPUT_LIMIT,
            placeholder="Longer than this? Attach a .md or .txt file to the command instead.",
        )
        self.add_item(self.body)
        self.priority: discord.ui.TextInput[MessageModal] | None = None
        if priority is None:
            self.priority = discord.ui.TextInput(
                label="Priority",
                required=False,
                max_length=10,
                placeholder=", ".join(p.value for p in Priority),
                default=Priority.NORMAL.value,
            )
            self.add_item(self.priority)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        chosen = self.priority.value if self.priority is not None else self.fixed_priority
        await self.on_text(interaction, self.body.value, (chosen or "").strip() or "normal")

    async def on_error(  # type: ignore[override]  # a modal's handler takes no item
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await self.errors.handle(interaction, error, self.where, {"form": self.title})
