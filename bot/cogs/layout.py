"""/layout: a picture of the monitors with every agent's points."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import Level, requires
from bot.client import CellphoneBot
from bot.errors import BotInputError
from bot.reply import InteractionReply
from bot.uploads import capped, interaction_limit

Interaction = discord.Interaction[Any]
PICTURE_NAME = "layout.png"


class Layout(commands.Cog):
    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot

    @app_commands.command(name="layout", description="Picture of the monitors and agent points.")
    @requires(Level.OPERATOR)
    async def layout(self, interaction: Interaction) -> None:
        reply = InteractionReply(interaction, ephemeral=True)
        await reply.acknowledge()
        draw = self.bot.layout_picture
        if draw is None:
            raise BotInputError("this bot has no layout picture to show")
        png = await asyncio.to_thread(draw)
        file, problem = capped(PICTURE_NAME, png, interaction_limit(interaction))
        if file is None:
            hint = "`cellphone coords show --png layout.png` draws it on the desk's machine"
            await reply.show(f"⚠️ {problem}; {hint}")
            return
        await interaction.edit_original_response(
            content="monitors and agent points", attachments=[file]
        )
        reply.shown = True


async def setup(bot: CellphoneBot) -> None:
    await bot.add_cog(Layout(bot))
