"""``!message Agent-N text`` and ``!broadcast text``: the chat commands operators know from
the previous bot, on the same handlers as /send and /broadcast. Loaded only when the
message-content intent is enabled in settings."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

from bot.access import Level, NotAllowedError
from bot.audit import Auditor
from bot.client import CellphoneBot
from bot.errors import judge, tell
from bot.inputs import body_of
from bot.reply import MessageReply

Context = commands.Context[Any]


class Refused(commands.CheckFailure):
    """A chat command from somebody not allowed to run it."""


class Legacy(commands.Cog):
    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot
        self.courier = bot.courier
        self.auditor: Auditor = bot.auditor

    async def cog_check(self, ctx: Context) -> bool:
        level = (ctx.command.extras if ctx.command else {}).get("level", Level.OPERATOR)
        guild_id = ctx.guild.id if ctx.guild else None
        try:
            self.bot.access.require(ctx.author, guild_id, level)
        except NotAllowedError as exc:
            raise Refused(exc.reason) from None
        return True

    @commands.command(name="message", extras={"level": Level.OPERATOR})
    async def message(self, ctx: Context, agent: str, *, text: str = "") -> None:
        """!message Agent-3 the text (or attach a .md/.txt file)."""
        body = await body_of(text, _attachment(ctx.message), self.courier.max_chars)
        outcome = await self.courier.send(
            MessageReply(ctx.message), [agent], body, key=f"discord:{ctx.message.id}"
        )
        await self.auditor.record(ctx.author, "!message", {"agent": agent, "text": body}, outcome)

    @commands.command(name="broadcast", extras={"level": Level.ADMIN})
    async def broadcast(self, ctx: Context, *, text: str = "") -> None:
        """!broadcast the text: to every active agent."""
        body = await body_of(text, _attachment(ctx.message), self.courier.max_chars)
        outcome = await self.courier.broadcast(
            MessageReply(ctx.message), body, key=f"discord:{ctx.message.id}"
        )
        await self.auditor.record(ctx.author, "!broadcast", {"text": body}, outcome)

    async def cog_command_error(self, ctx: Context, error: Exception) -> None:
        where = f"!{ctx.command}" if ctx.command else "chat command"
        verdict = judge(error, where=where, user=ctx.author)
        await tell(MessageReply(ctx.message), verdict.text, where)
        arguments = {"text": ctx.message.content}
        await self.auditor.record(ctx.author, where, arguments, verdict.outcome)


def _attachment(message: discord.Message) -> discord.Attachment | None:
    return message.attachments[0] if message.attachments else None


async def setup(bot: CellphoneBot) -> None:
    await bot.add_cog(Legacy(bot))
