"""The channels the bot posts to unasked (devlogs, notices, backup alerts): each checked
once the bot is ready, and Discord's refusal of a post there told in one line that names
the setting, the channel and what to do."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from config import Settings

log = logging.getLogger(__name__)

# "JSON Error Codes": what Discord answers for a channel the bot cannot use
WHY = {
    10003: "there is no such channel (deleted, or a wrong id)",
    50001: "the bot cannot see it (Missing Access)",
    50013: "the bot may not post there (Missing Permissions)",
}
NEEDED = ("view_channel", "send_messages", "embed_links", "attach_files")
FIX = (
    "give the bot View Channel, Send Messages, Embed Links and Attach Files there, "
    "or set another channel"
)


@dataclass(frozen=True)
class Target:
    """A channel the bot posts to, and the setting that names it."""

    setting: str
    channel_id: int

    def unusable(self, why: str) -> str:
        return f"{self.setting} {self.channel_id} cannot be used: {why}; {FIX}"

    def refused(self, exc: discord.HTTPException) -> str:
        """The line for Discord's refusal ``exc`` of a post to this channel."""
        reason = " ".join(str(exc.text or exc).split())
        return self.unusable(WHY.get(exc.code, f"Discord answered {exc.status} {reason}"))


def targets_of(settings: Settings) -> list[Target]:
    """Every channel the settings name, by the setting that names it (once each)."""
    named = (
        ("discord.devlog_channel_id", settings.discord.devlog_channel_id),
        ("watch.operator_channel_id", settings.watch.operator_channel_id),
        ("watch.status_channel_id", settings.watch.status_channel_id),
        ("backups.alert_channel_id", settings.backups.alert_channel_id),
    )
    seen: set[int] = set()
    found = []
    for setting, channel_id in named:
        if channel_id is not None and channel_id not in seen:
            seen.add(channel_id)
            found.append(Target(setting, channel_id))
    return found


def alert_target(settings: Settings) -> Target | None:
    """Where failed scheduled backups are posted: the alert channel, else the devlog one."""
    if settings.backups.alert_channel_id:
        return Target("backups.alert_channel_id", settings.backups.alert_channel_id)
    if settings.discord.devlog_channel_id:
        return Target("discord.devlog_channel_id", settings.discord.devlog_channel_id)
    return None


async def problem_of(client: discord.Client, target: Target) -> str | None:
    """Why the bot cannot post to ``target``, or None when it can."""
    try:
        channel = await client.fetch_channel(target.channel_id)
    except discord.HTTPException as exc:
        return target.refused(exc)
    except discord.InvalidData:
        return target.unusable("it is of a kind of channel this bot does not know")
    if not isinstance(channel, discord.abc.Messageable):
        return target.unusable(f"#{channel} is not a channel one can post in")
    if isinstance(channel, discord.abc.GuildChannel) and channel.guild.me is not None:
        allowed = channel.permissions_for(channel.guild.me)
        missing = [name for name in NEEDED if not getattr(allowed, name)]
        if missing:
            return target.unusable(f"the bot lacks {', '.join(missing)} in #{channel.name}")
    return None


async def check_channels(client: discord.Client, settings: Settings) -> list[str]:
    """Check each channel of the settings; one warning line per channel that cannot be
    used. Returns those lines."""
    problems = []
    for target in targets_of(settings):
        problem = await problem_of(client, target)
        if problem is not None:
            log.warning("%s", problem)
            problems.append(problem)
    return problems
