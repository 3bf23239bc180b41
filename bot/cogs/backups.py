"""/backup create | list | verify | restore, and the backup schedule of the bot's desk: its
failures are posted to ``backups.alert_channel_id`` (else the devlog channel)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from backups.errors import VerifyError
from backups.schedule import BackupSchedule
from backups.service import Backups
from bot import present
from bot.access import Access, Level, requires
from bot.channels import alert_target
from bot.client import CellphoneBot
from bot.reply import InteractionReply
from bot.views import Question
from config import BackupKind

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
CONFIRM_TIMEOUT_S = 120.0
KINDS = [app_commands.Choice(name=str(kind), value=str(kind)) for kind in BackupKind]


class ConfirmRestore(Question):
    """Restore or cancel; only an admin may press either. The buttons go once one is
    pressed or the question times out."""

    def __init__(self, cog: BackupsCog, backup_id: str, asking: Interaction) -> None:
        super().__init__(timeout=cog.confirm_timeout_s)
        self.cog = cog
        self.backup_id = backup_id
        self.asking = asking  # the /backup restore that asked: its answer holds the buttons
        self.access: Access = cog.bot.access

    async def on_timeout(self) -> None:
        try:
            await self.asking.edit_original_response(
                content=f"⌛ restore of `{self.backup_id}` was not confirmed within "
                f"{self.timeout:.0f} s: nothing was restored. Run `/backup restore` again.",
                view=None,
            )
        except discord.HTTPException as exc:
            log.warning("could not take the buttons off the restore question: %s", exc)

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        self.access.require(interaction.user, interaction.guild_id, Level.ADMIN)
        return True

    async def on_error(
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await self.cog.bot.errors.handle(interaction, error, "backup restore")

    @discord.ui.button(label="Restore", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        self.stop()
        reply = InteractionReply(interaction)
        await reply.update(f"♻️ restoring backup `{self.backup_id}` into a new folder…")
        target = self.cog.backups.home.var_dir / "restores" / f"{self.backup_id}-{int(time.time())}"
        try:
            result = await asyncio.to_thread(self.cog.backups.restore, self.backup_id, to=target)
        except VerifyError as exc:
            await reply.show(f"❌ restore of `{self.backup_id}` stopped: {present.quote(str(exc))}")
            outcome = "verify failed"
        else:
            await reply.show(
                f"✅ restored backup `{result.backup_id}` ({len(result.chain)} archives, "
                f"{result.files} files) into `{result.target}` in {result.seconds:.1f} s. "
                "To put it live, stop the bot and run "
                f"`cellphone backup restore {result.backup_id} --force`."
            )
            outcome = "restored"
        await self.cog.bot.auditor.record(
            interaction.user, "/backup restore", {"backup": self.backup_id}, outcome
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(content="restore cancelled", view=None)


class BackupsCog(commands.GroupCog, group_name="backup", group_description="Backups of the home"):
    def __init__(self, bot: CellphoneBot) -> None:
        self.bot = bot
        self.backups = Backups(bot.rt.home, bot.settings.backups)
        self.schedule = BackupSchedule(self.backups, self.report)
        self.confirm_timeout_s = CONFIRM_TIMEOUT_S
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        if self.bot.rt.desk_here and self.schedule.interval is not None:
            self._task = asyncio.create_task(self.schedule.run(), name="backup-schedule")

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def report(self, text: str) -> None:
        """Post a failed scheduled backup where the operator sees it; a channel Discord
        refuses is one line in the log (the schedule goes on)."""
        log.error("%s", text)
        target = alert_target(self.bot.settings)
        if target is None:
            return
        await self.bot.wait_until_ready()
        channel = self.bot.get_partial_messageable(target.channel_id)
        try:
            await channel.send(text[:2000])
        except discord.HTTPException as exc:
            log.warning("backup alert not posted: %s", target.refused(exc))

    @app_commands.command(name="create", description="Back up the home now and verify it.")
    @app_commands.describe(kind="full (default), incremental or differential")
    @app_commands.choices(kind=KINDS)
    @requires(Level.OPERATOR)
    async def create(self, interaction: Interaction, kind: str = "full") -> None:
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        manifest = await asyncio.to_thread(self.backups.create, BackupKind(kind))
        try:
            await asyncio.to_thread(self.backups.verify, manifest.id)
        except VerifyError as exc:
            await reply.show(f"❌ backup `{manifest.id}` made but failed verification: {exc}")
            interaction.extras["outcome"] = "verify failed"
            return
        await reply.show(
            f"✅ backup `{manifest.id}` ({manifest.kind}) made and verified: "
            f"{len(manifest.files)} files, {len(manifest.stored_here())} stored in this archive"
        )
        interaction.extras["outcome"] = f"{manifest.id} verified"

    @app_commands.command(name="list", description="The backups, newest last.")
    @requires(Level.OPERATOR)
    async def list_(self, interaction: Interaction) -> None:
        reply = InteractionReply(interaction, ephemeral=True)
        await reply.acknowledge()
        rows = await asyncio.to_thread(self.backups.rows)
        if not rows:
            await reply.show("no backups yet: `/backup create` makes one")
            return
        lines = ["**backups**"]
        for row in rows[-20:]:
            m, check = row.manifest, row.verified
            verified = (
                "never verified"
                if check is None
                else (
                    f"verified <t:{int(check.at.timestamp())}:R>"
                    if check.ok
                    else "❌ FAILED verification"
                )
            )
            lines.append(
                f"`{m.id}` {m.kind}{' 🔒' if m.key_id else ''}, {len(m.files)} files, "
                f"{row.archive_size / 1e6:,.1f} MB, {verified}"
            )
        await reply.show("\n".join(lines))

    @app_commands.command(name="verify", description="Recompute every hash of a backup.")
    @app_commands.describe(backup="Backup id (default: the newest)")
    @requires(Level.OPERATOR)
    async def verify(self, interaction: Interaction, backup: str | None = None) -> None:
        reply = InteractionReply(interaction)
        await reply.acknowledge()
        newest = await asyncio.to_thread(self.backups.catalog.newest)
        backup_id = backup or (newest.id if newest else None)
        if backup_id is None:
            await reply.show("no backups yet: `/backup create` makes one")
            return
        try:
            await asyncio.to_thread(self.backups.verify, backup_id)
        except VerifyError as exc:
            problems = "\n".join(f"- {present.quote(p)}" for p in exc.problems[:10])
            await reply.show(f"❌ backup `{backup_id}` failed verification:\n{problems}")
            interaction.extras["outcome"] = "failed"
            return
        await reply.show(f"✅ backup `{backup_id}`: every hash matches")

    @app_commands.command(
        name="restore", description="Restore a backup into a new folder (admins; asks first)."
    )
    @app_commands.describe(backup="Backup id")
    @requires(Level.ADMIN)
    async def restore(self, interaction: Interaction, backup: str) -> None:
        reply = InteractionReply(interaction)
        await reply.acknowledge()  # before the catalog is read: it may be slow
        manifest = await asyncio.to_thread(self.backups.catalog.get, backup.strip())
        view = ConfirmRestore(self, manifest.id, interaction)
        await reply.show(
            f"Restore backup `{manifest.id}` ({manifest.kind}, {len(manifest.files)} files, "
            f"chain of {len(manifest.chain)}) into a new folder under `var/restores/`? "
            "Live state is not touched.",
            view=view,
        )
        interaction.extras["outcome"] = "asked to confirm"


async def setup(bot: CellphoneBot) -> None:
    await bot.add_cog(BackupsCog(bot))
