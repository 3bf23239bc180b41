"""/send, /broadcast, /retry and /history: messages to agents and what became of them."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import present
from bot.access import Level, access_of, requires
from bot.client import CellphoneBot
from bot.inputs import (
    PRIORITY_CHOICES,
    agent_choices,
    agent_list,
    body_of,
    message_choices,
)
from bot.modals import MessageModal
from bot.reply import InteractionReply
from messaging.model import Message, MessageType
from messaging.service import Submission

Interaction = discord.Interaction[Any]
ADMIN_TYPES = (MessageType.BROADCAST, MessageType.ONBOARDING)  # retried by admins only
Choice = app_commands.Choice[str]


class Messaging(commands.Cog):
    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot
        self.rt = bot.rt
        self.courier = bot.courier

    # -- /send -------------------------------------------------------------------------

    @app_commands.command(name="send", description="Send a message to one agent.")
    @app_commands.describe(
        agent="Agent id (type to search ids and roles)",
        message="The text; leave empty to type a long one in a form",
        priority="normal, urgent or critical",
        file="A .md or .txt file with the text (added after the message, if both)",
    )
    @app_commands.choices(priority=PRIORITY_CHOICES)
    @requires(Level.OPERATOR)
    async def send(
        self,
        interaction: Interaction,
        agent: str,
        message: str | None = None,
        priority: str = "normal",
        file: discord.Attachment | None = None,
    ) -> None:
        if message is None and file is None:
            self.rt.registry.current().resolve([agent])  # before anything is typed
            await interaction.response.send_modal(self._form(agent, priority))
            interaction.extras["outcome"] = "opened the message form"
            return
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        body = await body_of(message, file, self.courier.max_chars)
        interaction.extras["outcome"] = await self.courier.send(
            reply, [agent], body, priority=priority, key=f"discord:{interaction.id}"
        )

    def _form(self, agent: str, priority: str) -> MessageModal:
        async def submitted(interaction: Interaction, body: str, chosen: str) -> None:
            reply = InteractionReply(interaction)
            await reply.acknowledge()
            outcome = await self.courier.send(
                reply, [agent], body, priority=chosen, key=f"discord:{interaction.id}"
            )
            arguments = {"agent": agent, "message": body, "priority": chosen}
            await self.bot.auditor.record(interaction.user, "/send form", arguments, outcome)

        return self.bot.forms.new(
            f"Message to {agent}",
            submitted,
            where="/send form",
            level=Level.OPERATOR,
            priority=priority,
            context={"agent": agent},
        )

    @send.autocomplete("agent")
    async def _agent(self, interaction: Interaction, current: str) -> list[Choice]:
        return self._agents_for(interaction, current, Level.OPERATOR)

    def _agents_for(self, interaction: Interaction, current: str, level: Level) -> list[Choice]:
        """Agents matching what was typed; nothing for those who may not use the command."""
        if not access_of(interaction).allows(interaction.user, interaction.guild_id, level):
            return []
        return agent_choices(self.rt.registry.current(), current)

    # -- /broadcast --------------------------------------------------------------------

    @app_commands.command(name="broadcast", description="Send a message to every active agent.")
    @app_commands.describe(
        message="The text; leave empty to type a long one in a form",
        priority="normal, urgent or critical",
        exclude="Agents to leave out, separated by commas",
        file="A .md or .txt file with the text",
    )
    @app_commands.choices(priority=PRIORITY_CHOICES)
    @requires(Level.ADMIN)
    async def broadcast(
        self,
        interaction: Interaction,
        message: str | None = None,
        priority: str = "normal",
        exclude: str | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        excluded = agent_list(exclude)
        if message is None and file is None:
            self.rt.registry.current().resolve(excluded, require_active=False)
            await interaction.response.send_modal(self._broadcast_form(excluded, priority))
            interaction.extras["outcome"] = "opened the broadcast form"
            return
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        body = await body_of(message, file, self.courier.max_chars)
        interaction.extras["outcome"] = await self.courier.broadcast(
            reply, body, exclude=excluded, priority=priority, key=f"discord:{interaction.id}"
        )

    def _broadcast_form(self, excluded: list[str], priority: str) -> MessageModal:
        async def submitted(interaction: Interaction, body: str, chosen: str) -> None:
            reply = InteractionReply(interaction)
            await reply.acknowledge()
            outcome = await self.courier.broadcast(
                reply, body, exclude=excluded, priority=chosen, key=f"discord:{interaction.id}"
            )
            arguments = {"message": body, "priority": chosen, "exclude": excluded}
            await self.bot.auditor.record(interaction.user, "/broadcast form", arguments, outcome)

        return self.bot.forms.new(
            "Broadcast to every active agent",
            submitted,
            where="/broadcast form",
            level=Level.ADMIN,
            priority=priority,
            context={"exclude": excluded},
        )

    @broadcast.autocomplete("exclude")
    async def _exclude(self, interaction: Interaction, current: str) -> list[Choice]:
        return self._agents_for(interaction, current, Level.ADMIN)

    # -- /retry ------------------------------------------------------------------------

    @app_commands.command(
        name="retry", description="Deliver again what of a message fell back or failed."
    )
    @app_commands.describe(message_id="Id shown by /send, /broadcast or /history")
    @requires(Level.OPERATOR)
    async def retry(self, interaction: Interaction, message_id: str) -> None:
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        message_id = message_id.strip()
        known = await self.rt.service.find(message_id)
        if known is not None and known.message.type in ADMIN_TYPES:
            access_of(interaction).require(interaction.user, interaction.guild_id, Level.ADMIN)
        requeued = await self.rt.service.retry(message_id)
        if not requeued:
            await reply.show(f"nothing to retry in `{message_id}`: every recipient has it")
            interaction.extras["outcome"] = "nothing to retry"
            return
        entry = await self.rt.store.message(message_id)
        assert entry is not None  # retry() raised if it did not exist
        interaction.extras["outcome"] = await self.courier.follow(
            reply, lambda: _resubmitted(entry.message)
        )

    @retry.autocomplete("message_id")
    async def _recent(self, interaction: Interaction, current: str) -> list[Choice]:
        access = access_of(interaction)
        if not access.allows(interaction.user, interaction.guild_id, Level.OPERATOR):
            return []
        entries = await self.rt.service.history(limit=25)
        return message_choices([e for e in entries if current.strip() in e.message.id])

    # -- /history ----------------------------------------------------------------------

    @app_commands.command(name="history", description="Recent messages and their outcomes.")
    @app_commands.describe(
        agent="Only messages to this agent",
        limit="How many (1 to 50)",
        search="Only messages containing all these words",
        thread="A message id: its whole thread, oldest first",
    )
    @requires(Level.OPERATOR)
    async def history(
        self,
        interaction: Interaction,
        agent: str | None = None,
        limit: app_commands.Range[int, 1, 50] = 10,
        search: str | None = None,
        thread: str | None = None,
    ) -> None:
        reply = InteractionReply(interaction, ephemeral=True)
        await reply.acknowledge()
        if thread is not None:
            entries = await self.rt.service.thread(thread.strip())
        else:
            entries = await self.rt.service.history(agent=agent, limit=limit, search=search)
        await reply.show(present.history(entries))
        interaction.extras["outcome"] = f"{len(entries)} messages"

    @history.autocomplete("agent")
    async def _history_agent(self, interaction: Interaction, current: str) -> list[Choice]:
        return self._agents_for(interaction, current, Level.OPERATOR)


async def _resubmitted(message: Message) -> Submission:
    return Submission(message, created=True)


async def setup(bot: CellphoneBot) -> None:
    await bot.add_cog(Messaging(bot))
