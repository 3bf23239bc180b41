"""The bot: a discord.py ``commands.Bot`` that holds the runtime its cogs talk to, who may
do what, the audit log and the one error handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import Access
from bot.audit import Auditor, arguments_of
from bot.channels import check_channels
from bot.delivery import Courier
from bot.errors import ErrorHandler
from bot.modals import Forms
from bot.views import answer_stale
from config import ConfigError, Settings
from messaging.runtime import Runtime

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.messaging",
    "bot.cogs.agents",
    "bot.cogs.desk",
    "bot.cogs.layout",
    "bot.cogs.panel",
    "bot.cogs.backups",
    "bot.cogs.devlogs",
)
LEGACY_EXTENSION = "bot.cogs.legacy"
LEGACY_PREFIX = "!"

LayoutPicture = Callable[[], bytes]  # PNG of the monitors with every agent's points


class CellphoneBot(commands.Bot):
    def __init__(
        self,
        rt: Runtime,
        settings: Settings,
        *,
        layout_picture: LayoutPicture | None = None,
    ) -> None:
        legacy = settings.discord.message_content_intent
        intents = discord.Intents.default()
        intents.message_content = legacy
        super().__init__(
            command_prefix=LEGACY_PREFIX if legacy else commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.rt = rt
        self.settings = settings
        self.access = Access(settings.discord)
        self.auditor = Auditor(rt.service)
        self.errors = ErrorHandler(self.auditor)
        self.forms = Forms(self.errors, self.access, self.auditor)
        self.courier = Courier(rt)
        self.layout_picture = layout_picture
        self.channels_checked = False
        self.tree.error(self.errors.on_app_command_error)

    @property
    def extension_names(self) -> tuple[str, ...]:
        return (*EXTENSIONS, LEGACY_EXTENSION)  # without the intent, it says they are off

    async def setup_hook(self) -> None:
        self.access.warn_if_closed()
        for name in self.extension_names:
            await self.load_extension(name)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register the slash commands with Discord: in the configured guild at once, or
        globally (which Discord may take a while to show). A sync replaces the whole list
        of its scope, so the global list is emptied when the commands live in a guild
        (else a switch to guild commands leaves every command twice)."""
        guild_id = self.settings.discord.guild_id
        where = f"server {guild_id} (discord.guild_id)" if guild_id else "Discord"
        try:
            if guild_id is not None:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                self.tree.clear_commands(guild=None)
                await self.tree.sync()  # the global list, now empty
            else:
                synced = await self.tree.sync()
        except discord.Forbidden as exc:
            raise ConfigError(
                f"Discord refused to register the slash commands in {where}: {exc.text or exc}; "
                "check discord.guild_id and invite the bot with the applications.commands scope"
            ) from None
        except discord.HTTPException as exc:
            reason = " ".join(str(exc.text or exc).split())
            raise ConfigError(
                f"Discord refused the slash commands of this bot in {where} "
                f"({exc.status}, code {exc.code}): {reason}; this is a bug of the bot's "
                "command definitions, report it with this line"
            ) from None
        log.info("synced %d slash commands (%s)", len(synced), guild_id or "global")

    async def close(self) -> None:
        await self.courier.stop()
        await super().close()

    async def on_ready(self) -> None:
        log.info("logged in as %s; desk here: %s", self.user, self.rt.desk_here)
        if not self.channels_checked:  # on_ready comes again after each new session
            self.channels_checked = True
            await check_channels(self, self.settings)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer what no live form or view of the bot answers (Discord would show "This
        interaction failed")."""
        await self.forms.on_interaction(interaction)
        await answer_stale(interaction)

    async def on_resumed(self) -> None:
        log.info("gateway session resumed")

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction[Any],
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        outcome = interaction.extras.get("outcome", "ok")
        await self.auditor.record(
            interaction.user, f"/{command.qualified_name}", arguments_of(interaction), outcome
        )

    async def on_command_error(
        self, context: commands.Context[Any], exception: commands.CommandError, /
    ) -> None:
        """Chat commands the bot does not have are somebody else's; the legacy cog answers
        errors of its own commands."""
        if not isinstance(exception, commands.CommandNotFound):
            log.debug("unhandled chat-command error: %s", exception)
