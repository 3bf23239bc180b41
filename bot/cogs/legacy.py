"""``!message Agent-N text`` and ``!broadcast text``: the chat commands operators know from
the previous bot, on the same handlers as /send and /broadcast. They work only with the
Message Content intent (setting and Developer Portal): without it Discord sends the bot no
message text, and the bot says so once at start and to whoever mentions it with one."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord.ext import commands

from bot.access import Level, NotAllowedError
from bot.audit import Auditor
from bot.client import CellphoneBot
from bot.errors import judge, tell
from bot.inputs import body_of
from bot.reply import MessageReply, reply_to

log = logging.getLogger(__name__)

Context = commands.Context[Any]
CHAT_COMMANDS_OFF = (
    "chat commands (!message, !broadcast) are off: Discord sends this bot no message text "
    "without the Message Content intent; use /send and /broadcast, or turn on Message Content "
    "Intent in the Developer Portal (Bot page, Privileged Gateway Intents) and set "
    "discord.message_content_intent = true"
)


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


class ChatCommandsOff(commands.Cog):
    """Without the intent, messages reach the bot without their text, save those that
    mention it: one of those asking for a chat command is told why nothing happens."""

    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        log.info("%s", CHAT_COMMANDS_OFF)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or me not in message.mentions:
            return
        text = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        if re.match(r"!?(message|broadcast)\b", text):
            try:
                await reply_to(message, CHAT_COMMANDS_OFF)
            except discord.HTTPException as exc:
                log.warning("could not tell %s chat commands are off: %s", message.author, exc)


def _attachment(message: discord.Message) -> discord.Attachment | None:
    return message.attachments[0] if message.attachments else None


async def setup(bot: CellphoneBot) -> None:
    if bot.settings.discord.message_content_intent:
        await bot.add_cog(Legacy(bot))
    else:
        await bot.add_cog(ChatCommandsOff(bot))
