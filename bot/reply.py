"""Answering a user: the one reply a command owns, updated as things happen. Text over
Discord's 2,000 characters is split into a few messages or attached as a file, never cut."""

from __future__ import annotations

import io
import logging
from typing import Any, Protocol

import discord

from bot.present import pieces

log = logging.getLogger(__name__)

MAX_PIECES = 4  # beyond this many messages, one file reads better
ATTACHED_NAME = "reply.md"


class Reply(Protocol):
    async def show(self, text: str) -> None:
        """Show ``text`` as the answer, replacing what was shown before."""

    async def tell(self, text: str) -> None:
        """Say something to the user alone where Discord allows it (errors, refusals)."""


def layout(text: str) -> tuple[list[str], discord.File | None]:
    """The messages to post for ``text``, and a file when it is too long for a few."""
    parts = pieces(text)
    if len(parts) <= MAX_PIECES:
        return parts, None
    first = text.split("\n", 1)[0][:300]
    note = f"{first}\n(the whole reply is {len(text):,} characters: attached as {ATTACHED_NAME})"
    return [note], discord.File(io.BytesIO(text.encode("utf-8")), filename=ATTACHED_NAME)


class InteractionReply:
    """The reply to an interaction: the deferred response, edited in place."""

    def __init__(self, interaction: discord.Interaction[Any], *, ephemeral: bool = False) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        self.shown = False
        interaction.extras["reply"] = self  # the error handler answers through it

    async def acknowledge(self) -> None:
        """Tell Discord the command is being worked on (within its 3 seconds)."""
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(thinking=True, ephemeral=self.ephemeral)

    async def show(self, text: str, *, view: discord.ui.View | None = None) -> None:
        parts, file = layout(text)
        extra: dict[str, Any] = {} if view is None else {"view": view}
        response = self.interaction.response
        if not response.is_done():
            if file is not None:
                extra["file"] = file
            await response.send_message(parts[0], ephemeral=self.ephemeral, **extra)
        else:
            if file is not None:
                extra["attachments"] = [file]
            await self.interaction.edit_original_response(content=parts[0], **extra)
        for part in parts[1:]:
            await self.interaction.followup.send(part, ephemeral=self.ephemeral)
        self.shown = True

    async def tell(self, text: str) -> None:
        parts, file = layout(text)
        await self._tell_first(parts[0])
        for part in parts[1:]:
            await self.interaction.followup.send(part, ephemeral=True)
        if file is not None:
            await self.interaction.followup.send(file=file, ephemeral=True)

    async def _tell_first(self, text: str) -> None:
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(text, ephemeral=True)
            return
        if self.ephemeral and not self.shown:
            await self.interaction.edit_original_response(content=text)
            return
        if not self.shown:
            # only "thinking…" is public so far: take it away, answer privately
            try:
                await self.interaction.delete_original_response()
            except discord.HTTPException as exc:
                log.warning("could not remove the pending reply: %s", exc)
        await self.interaction.followup.send(text, ephemeral=True)


class MessageReply:
    """The reply to a chat message (the ``!`` commands): one bot message, edited."""

    def __init__(self, message: discord.Message) -> None:
        self.message = message
        self.sent: discord.Message | None = None

    async def show(self, text: str) -> None:
        parts, file = layout(text)
        if self.sent is None:
            extra: dict[str, Any] = {"file": file} if file else {}
            self.sent = await self.message.reply(parts[0], mention_author=False, **extra)
        else:
            extra = {"attachments": [file]} if file else {}
            self.sent = await self.sent.edit(content=parts[0], **extra)
        for part in parts[1:]:
            await self.message.channel.send(part)

    async def tell(self, text: str) -> None:
        await self.show(text)
