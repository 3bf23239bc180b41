"""/panel: a control panel message that keeps working across restarts. Pick an agent to
write it a message, broadcast to all, or see the status."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from agents import Agent
from bot.access import Access, Level, requires
from bot.client import CellphoneBot
from bot.inputs import MAX_CHOICES, label
from bot.modals import MessageModal
from bot.reply import InteractionReply
from bot.status import status_text

Interaction = discord.Interaction[Any]

AGENT_SELECT = "cellphone:panel:agent"
BROADCAST_BUTTON = "cellphone:panel:broadcast"
STATUS_BUTTON = "cellphone:panel:status"
PANEL_TEXT = (
    "**cellphone control panel**\nPick an agent to write to it, or broadcast to every active agent."
)


def agent_options(agents: list[Agent]) -> list[discord.SelectOption]:
    options = [
        discord.SelectOption(label=agent.agent_id, value=agent.agent_id, description=label(agent))
        for agent in agents[:MAX_CHOICES]
    ]
    return options or [discord.SelectOption(label="no agents yet", value="-")]


class PanelView(discord.ui.View):
    """Persistent (no timeout, fixed custom ids): the bot adds it at every start, so a
    panel posted before a restart still answers."""

    def __init__(self, bot: CellphoneBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot
        self.access: Access = bot.access
        picker: discord.ui.Select[Any] = self.pick_agent
        picker.options = agent_options(bot.rt.registry.current().active())

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        self.access.require(interaction.user, interaction.guild_id, Level.OPERATOR)
        return True

    async def on_error(
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        custom_id = getattr(item, "custom_id", None) or "?"
        await self.bot.errors.handle(interaction, error, f"panel {custom_id}")

    @discord.ui.select(custom_id=AGENT_SELECT, placeholder="Write to an agent…", min_values=1)
    async def pick_agent(self, interaction: Interaction, select: discord.ui.Select[Any]) -> None:
        agent = select.values[0]
        self.bot.rt.registry.current().resolve([agent])
        await interaction.response.send_modal(self._form(agent))

    @discord.ui.button(
        custom_id=BROADCAST_BUTTON, label="Broadcast", style=discord.ButtonStyle.primary
    )
    async def broadcast(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        self.access.require(interaction.user, interaction.guild_id, Level.ADMIN)
        await interaction.response.send_modal(self._broadcast_form())

    @discord.ui.button(custom_id=STATUS_BUTTON, label="Status", style=discord.ButtonStyle.secondary)
    async def status(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        reply = InteractionReply(interaction, ephemeral=True)
        await reply.acknowledge()
        await reply.show(await status_text(self.bot.rt))
        await self.bot.auditor.record(interaction.user, "panel status", {}, "ok")

    def _form(self, agent: str) -> MessageModal:
        async def submitted(interaction: Interaction, body: str, priority: str) -> None:
            reply = InteractionReply(interaction)
            await reply.acknowledge()
            outcome = await self.bot.courier.send(
                reply, [agent], body, priority=priority, key=f"discord:{interaction.id}"
            )
            arguments = {"agent": agent, "message": body, "priority": priority}
            await self.bot.auditor.record(interaction.user, "panel send", arguments, outcome)

        return self.bot.forms.new(
            f"Message to {agent}",
            submitted,
            where="panel send",
            level=Level.OPERATOR,
            context={"agent": agent},
        )

    def _broadcast_form(self) -> MessageModal:
        async def submitted(interaction: Interaction, body: str, priority: str) -> None:
            reply = InteractionReply(interaction)
            await reply.acknowledge()
            outcome = await self.bot.courier.broadcast(
                reply, body, priority=priority, key=f"discord:{interaction.id}"
            )
            arguments = {"message": body, "priority": priority}
            await self.bot.auditor.record(interaction.user, "panel broadcast", arguments, outcome)

        return self.bot.forms.new(
            "Broadcast to every active agent", submitted, where="panel broadcast", level=Level.ADMIN
        )


class Panel(commands.Cog):
    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_view(PanelView(self.bot))

    @app_commands.command(name="panel", description="Post the control panel in this channel.")
    @requires(Level.OPERATOR)
    async def panel(self, interaction: Interaction) -> None:
        await interaction.response.send_message(PANEL_TEXT, view=PanelView(self.bot))
        interaction.extras["outcome"] = "panel posted"


async def setup(bot: CellphoneBot) -> None:
    await bot.add_cog(Panel(bot))
