"""/agents, /role and /onboard: who is in the swarm, what each one does, and starting them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from agents.onboarding import onboarding_texts
from bot import present
from bot.access import Level, access_of, requires
from bot.client import CellphoneBot
from bot.inputs import ALL, agent_choices
from bot.reply import InteractionReply
from coordinates import load_coordinates, save_coordinates

Interaction = discord.Interaction[Any]
Choice = app_commands.Choice[str]


class Agents(commands.Cog):
    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot
        self.rt = bot.rt

    @app_commands.command(name="agents", description="The agents: id, role, active, last delivery.")
    @requires(Level.OPERATOR)
    async def agents(self, interaction: Interaction) -> None:
        reply = InteractionReply(interaction, ephemeral=True)
        await reply.acknowledge()
        registry = self.rt.registry.current()
        queues = await self.rt.service.status()
        await reply.show(present.agents(registry, queues))
        interaction.extras["outcome"] = f"{len(registry)} agents"

    @app_commands.command(
        name="role", description="Set an agent's role (kept in the coordinates file)."
    )
    @app_commands.describe(agent="Agent id", role="What this agent works on")
    @requires(Level.ADMIN)
    async def role(
        self, interaction: Interaction, agent: str, role: app_commands.Range[str, 1, 200]
    ) -> None:
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        self.rt.registry.current().get(agent)
        await asyncio.to_thread(set_role, self.rt.home.coordinates_file, agent, role.strip())
        await reply.show(f"`{agent}` role: {present.quote(role.strip())}")
        interaction.extras["outcome"] = "role saved"

    @app_commands.command(
        name="onboard", description="Send the onboarding message to an agent or all."
    )
    @app_commands.describe(target="An agent id, or all for every active agent")
    @requires(Level.ADMIN)
    async def onboard(self, interaction: Interaction, target: str) -> None:
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        registry = self.rt.registry.current()
        if target.strip(" ").lower() == ALL:
            chosen = registry.active()
        else:
            chosen = [registry.get(registry.resolve([target.strip(" ")])[0])]
        ids = [agent.agent_id for agent in chosen]
        texts = await asyncio.to_thread(onboarding_texts, self.rt.home, registry, ids)
        submissions = await self.rt.service.onboard(texts)
        names = ", ".join(s.message.recipients[0] for s in submissions)
        await reply.show(f"**onboarding** queued for {names}; waiting for the desk…")
        results = await self.bot.courier.outcomes([s.message.id for s in submissions])
        outcomes = {agent: o for result in results for agent, o in result.items()}
        lines = ["**onboarding**", *(present.outcome_line(o) for o in outcomes.values())]
        await reply.show("\n".join(lines))
        interaction.extras["outcome"] = f"onboarding: {present.tally(outcomes)}"

    @role.autocomplete("agent")
    async def _agent(self, interaction: Interaction, current: str) -> list[Choice]:
        if not access_of(interaction).allows(interaction.user, interaction.guild_id, Level.ADMIN):
            return []
        return agent_choices(self.rt.registry.current(), current)

    @onboard.autocomplete("target")
    async def _target(self, interaction: Interaction, current: str) -> list[Choice]:
        if not access_of(interaction).allows(interaction.user, interaction.guild_id, Level.ADMIN):
            return []
        return agent_choices(self.rt.registry.current().active(), current, extra=[ALL])


def set_role(coordinates_file: Path, agent_id: str, role: str) -> None:
    """Write ``role`` as the agent's description; the previous file is kept as a copy."""
    document = load_coordinates(coordinates_file)
    save_coordinates(document.with_description(agent_id, role))


async def setup(bot: CellphoneBot) -> None:
    await bot.add_cog(Agents(bot))
