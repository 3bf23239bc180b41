"""Answering a user: the one reply a command owns, updated as things happen. Text over
Discord's 2,000 characters is split into a few messages or attached as a file, never cut.
An interaction's token works for 15 minutes: what comes later goes to the channel."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import discord

from bot.present import pieces
from bot.uploads import capped, channel_limit, interaction_limit

log = logging.getLogger(__name__)

MAX_PIECES = 4  # beyond this many messages, one file reads better
ATTACHED_NAME = "reply.md"
TOKEN_WINDOW_S = 14.5 * 60  # Discord takes an interaction's token for 15 minutes
INVALID_WEBHOOK_TOKEN = 50027  # what Discord answers once the token expired
KEPT_PRIVATE = "⚠️ that did not work; the reason was sent to you alone"


class Reply(Protocol):
    async def show(self, text: str) -> None:
        """Show ``text`` as the answer, replacing what was shown before."""

    async def tell(self, text: str) -> None:
        """Say something to the user alone where Discord allows it (errors, refusals)."""


def layout(
    text: str, upload_limit: int = discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
) -> tuple[list[str], discord.File | None]:
    """The messages to post for ``text``, and a file when it is too long for a few (none,
    and a line saying so, when the file would be over ``upload_limit`` bytes)."""
    parts = pieces(text)
    if len(parts) <= MAX_PIECES:
        return parts, None
    first = text.split("\n", 1)[0][:300]
    file, problem = capped(ATTACHED_NAME, text.encode("utf-8"), upload_limit)
    where = f"attached as {ATTACHED_NAME}" if problem is None else problem
    return [f"{first}\n(the whole reply is {len(text):,} characters: {where})"], file


class InteractionReply:
    """The reply to an interaction: the deferred response, edited in place. Once the
    interaction's token has expired, the reply goes on in a message of the channel."""

    def __init__(self, interaction: discord.Interaction[Any], *, ephemeral: bool = False) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        self.shown = False
        self.started = time.monotonic()
        self.in_channel: discord.Message | None = None  # the reply, once the token expired
        self.expired = False
        interaction.extras["reply"] = self  # the error handler answers through it

    async def acknowledge(self) -> None:
        """Tell Discord the command is being worked on (within its 3 seconds)."""
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(thinking=True, ephemeral=self.ephemeral)

    async def update(self, text: str) -> None:
        """Answer a click by replacing the message its buttons are on (they go away)."""
        await self.interaction.response.edit_message(content=text, view=None)
        self.shown = True

    async def show(self, text: str, *, view: discord.ui.View | None = None) -> None:
        if self._token_gone():
            await self._show_in_channel(text, private=self.ephemeral)
            return
        try:
            await self._show(text, view)
        except discord.HTTPException as exc:
            if exc.code != INVALID_WEBHOOK_TOKEN:
                raise
            self.expired = True
            await self._show_in_channel(text, private=self.ephemeral)

    async def _show(self, text: str, view: discord.ui.View | None) -> None:
        parts, file = layout(text, interaction_limit(self.interaction))
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
        if self._token_gone():
            await self._show_in_channel(text, private=True)
            return
        try:
            await self._tell(text)
        except discord.HTTPException as exc:
            if exc.code != INVALID_WEBHOOK_TOKEN:
                raise
            self.expired = True
            await self._show_in_channel(text, private=True)

    async def _tell(self, text: str) -> None:
        parts, file = layout(text, interaction_limit(self.interaction))
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
            await self._end_thinking()
        await self.interaction.followup.send(text, ephemeral=True)

    async def _end_thinking(self) -> None:
        """Take the public "thinking…" away before answering privately. Discord makes the
        first follow-up after a deferral replace it, whatever privacy the follow-up asks
        for: when it cannot be deleted, it is edited to say the answer went privately."""
        try:
            await self.interaction.delete_original_response()
        except discord.HTTPException as exc:
            log.warning("could not remove the pending reply: %s", exc)
            await self.interaction.edit_original_response(content=KEPT_PRIVATE)
        self.shown = True

    def _token_gone(self) -> bool:
        return self.expired or time.monotonic() - self.started > TOKEN_WINDOW_S

    async def _show_in_channel(self, text: str, *, private: bool) -> None:
        """Go on in the channel after the token expired: the text itself when the reply is
        public, else a line saying the command ended and where to look."""
        interaction = self.interaction
        name = f"/{interaction.command.qualified_name}" if interaction.command else "your request"
        if private:
            text = (
                f"{name} finished after Discord's 15 minutes for a private answer; "
                "run it again (or see /history) for the result"
            )
        parts, file = layout(
            f"{interaction.user.mention} {name}: {text}", channel_limit(interaction.guild)
        )
        channel = interaction.client.get_partial_messageable(
            interaction.channel_id or 0, guild_id=interaction.guild_id
        )
        if self.in_channel is None:
            extra: dict[str, Any] = {"file": file} if file else {}
            self.in_channel = await channel.send(parts[0], **extra)
        else:
            edit: dict[str, Any] = {"attachments": [file]} if file else {}
            self.in_channel = await self.in_channel.edit(content=parts[0], **edit)
        for part in parts[1:]:
            await channel.send(part)
        self.shown = True


async def reply_to(message: discord.Message, text: str, **extra: Any) -> discord.Message:
    """Answer ``message`` as a reply, pinging nobody; when it was deleted meanwhile, as a
    plain message of its channel (Discord refuses a reply to a message that is gone,
    unless told not to fail)."""
    reference = message.to_reference(fail_if_not_exists=False)
    return await message.channel.send(text, reference=reference, mention_author=False, **extra)


class MessageReply:
    """The reply to a chat message (the ``!`` commands): one bot message, edited."""

    def __init__(self, message: discord.Message) -> None:
        self.message = message
        self.sent: discord.Message | None = None

    async def show(self, text: str) -> None:
        parts, file = layout(text, channel_limit(self.message.guild))
        if self.sent is None:
            extra: dict[str, Any] = {"file": file} if file else {}
            self.sent = await reply_to(self.message, parts[0], **extra)
        else:
            extra = {"attachments": [file]} if file else {}
            self.sent = await self.sent.edit(content=parts[0], **extra)
        for part in parts[1:]:
            await self.message.channel.send(part)

    async def tell(self, text: str) -> None:
        await self.show(text)
