"""/devlog post | recent, and the watchers of the bot's home: outbox and devlog files are
routed, and devlogs and notices posted to their channels (``discord.devlog_channel_id``;
``watch.operator_channel_id`` and ``watch.status_channel_id`` fall back to it)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import present
from bot.access import Level, requires
from bot.channels import Target
from bot.client import CellphoneBot
from bot.inputs import agent_choices
from bot.reply import InteractionReply
from bot.uploads import capped, channel_limit
from config import Settings
from devlogs.entry import Devlog, Post
from devlogs.post import PostError, PostKind
from devlogs.watching import Watchers

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
Choice = app_commands.Choice[str]
TOO_MANY_REQUESTS = 429


class ChannelPoster:
    """Posts through the bot to the channel of each kind of post, pinging nobody."""

    def __init__(self, bot: CellphoneBot, channels: dict[PostKind, Target | None]) -> None:
        self.bot = bot
        self.channels = channels

    async def send(self, kind: PostKind, post: Post) -> None:
        target = self.channels.get(kind)
        if target is None:
            raise PostError(f"no channel for {kind} posts: set discord.devlog_channel_id")
        channel = self.bot.get_partial_messageable(target.channel_id)
        extra: dict[str, Any] = {}
        if post.embed is not None:
            embed = discord.Embed(title=post.embed["title"], description=post.embed["description"])
            extra["embed"] = embed.set_footer(text=post.embed["footer"])
        content = post.content
        if post.attachment is not None:
            name, data = post.attachment
            limit = channel_limit(self.bot.get_guild(self.bot.settings.discord.guild_id or 0))
            file, problem = capped(name, data, limit)
            if file is not None:
                extra["file"] = file
            else:
                content = f"{content}\n⚠️ {problem}; the home keeps it whole in var/devlogs/"
        try:
            await channel.send(content, allowed_mentions=discord.AllowedMentions.none(), **extra)
        except discord.HTTPException as exc:
            if exc.status == TOO_MANY_REQUESTS:  # discord.py waited and retried already
                raise PostError(
                    f"Discord kept rate limiting the posts to channel {target.channel_id} "
                    f"({target.setting}); they are tried again"
                ) from exc
            raise PostError(target.refused(exc)) from exc


def channels_of(settings: Settings) -> dict[PostKind, Target | None]:
    """The channel of each kind of post: operator notices fall back to the devlog
    channel, status notices to the operator channel."""
    devlog_id = settings.discord.devlog_channel_id
    devlog = Target("discord.devlog_channel_id", devlog_id) if devlog_id else None
    operator_id = settings.watch.operator_channel_id
    operator = Target("watch.operator_channel_id", operator_id) if operator_id else devlog
    status_id = settings.watch.status_channel_id
    return {
        PostKind.DEVLOG: devlog,
        PostKind.OPERATOR: operator,
        PostKind.STATUS: Target("watch.status_channel_id", status_id) if status_id else operator,
    }


class DevlogsCog(commands.GroupCog, group_name="devlog", group_description="Agents' devlogs"):
    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot
        self.rt = bot.rt
        self.watchers = Watchers(bot.rt, ChannelPoster(bot, channels_of(bot.settings)))

    async def cog_load(self) -> None:
        if self.bot.settings.discord.devlog_channel_id is None:
            log.warning("discord.devlog_channel_id is not set: devlogs and notices wait")
        await self.watchers.start()

    async def cog_unload(self) -> None:
        await self.watchers.stop()

    @app_commands.command(name="post", description="Post a devlog for an agent.")
    @app_commands.describe(
        agent="The agent it is from",
        title="One line saying what it is about",
        text="What was done",
        summarize="Put a short AI summary on top",
    )
    @requires(Level.OPERATOR)
    async def post(
        self,
        interaction: Interaction,
        agent: str,
        title: app_commands.Range[str, 1, 200],
        text: app_commands.Range[str, 1, 4000],
        summarize: bool = False,
    ) -> None:
        reply = InteractionReply(interaction, ephemeral=True)
        await reply.acknowledge()
        self.rt.registry.current().get(agent)
        devlog = await self.watchers.publisher.submit(agent, title, text, summarize=summarize)
        await reply.show(f"devlog {devlog.seq} by `{agent}` kept; it is being posted")
        interaction.extras["outcome"] = f"devlog {devlog.seq}"

    @post.autocomplete("agent")
    async def _post_agent(self, interaction: Interaction, current: str) -> list[Choice]:
        return agent_choices(self.rt.registry.current(), current)

    @app_commands.command(name="recent", description="The newest devlogs.")
    @app_commands.describe(agent="Only this agent's")
    @requires(Level.OPERATOR)
    async def recent(self, interaction: Interaction, agent: str | None = None) -> None:
        reply = InteractionReply(interaction, ephemeral=True)
        await reply.acknowledge()
        if agent is not None:
            self.rt.registry.current().get(agent)
        devlogs = await self.watchers.publisher.journal.recent(agent, 10)
        await reply.show(recent_text(devlogs))
        interaction.extras["outcome"] = f"{len(devlogs)} devlogs"

    @recent.autocomplete("agent")
    async def _recent_agent(self, interaction: Interaction, current: str) -> list[Choice]:
        return agent_choices(self.rt.registry.current(), current)


def recent_text(devlogs: list[Devlog]) -> str:
    if not devlogs:
        return "no devlogs yet"
    lines = []
    for d in devlogs:
        waiting = present.preview(d.post_error or "not yet", 80)
        state = "posted" if d.posted_at else f"waiting ({waiting})"
        title = present.quote(d.title)
        when = present.when(d.created_at)
        lines.append(f"`{d.seq}` {when} `{d.agent_id}` **{title}** · {state}")
        if d.summary:
            lines.append(f"> {present.preview(d.summary, 300)}")
    return "\n".join(lines)


async def setup(bot: CellphoneBot) -> None:
    await bot.add_cog(DevlogsCog(bot))
