"""/status, /pause and /resume: the desk that types into the agents' chat panes."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import present
from bot.access import Level, requires
from bot.client import CellphoneBot
from bot.reply import InteractionReply
from bot.status import status_text
from messaging.pause import checked_reason

Interaction = discord.Interaction[Any]


class Desk(commands.Cog):
    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot
        self.rt = bot.rt

    @app_commands.command(
        name="status", description="Queues, the desk, the screen and last outcomes."
    )
    @requires(Level.OPERATOR)
    async def status(self, interaction: Interaction) -> None:
        reply = InteractionReply(interaction, ephemeral=True)
        await reply.acknowledge()
        await reply.show(await status_text(self.rt))

    @app_commands.command(name="pause", description="Stop typing into chat panes; messages wait.")
    @app_commands.describe(reason="Shown in /status while paused")
    @requires(Level.OPERATOR)
    async def pause(self, interaction: Interaction, reason: str | None = None) -> None:
        why = checked_reason(reason) if reason is not None else f"paused by {interaction.user.name}"
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        self.rt.desk.pause(why)
        await reply.show(f"⏸️ desk paused: {present.quote(why)}. `/resume` starts it again.")

    @app_commands.command(name="resume", description="Start typing into chat panes again.")
    @requires(Level.OPERATOR)
    async def resume(self, interaction: Interaction) -> None:
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        was = self.rt.desk.pause_reason
        self.rt.desk.resume()
        pending = await self.rt.store.pending()
        note = f" (was paused: {present.quote(was)})" if was else " (it was not paused)"
        await reply.show(f"▶️ desk running{note}; {pending} deliveries pending")


async def setup(bot: CellphoneBot) -> None:
    await bot.add_cog(Desk(bot))
