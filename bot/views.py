"""Buttons of one-off questions (a confirmation): custom ids of their own, and a clear
private answer to a click on buttons whose question is gone (answered, timed out, or asked
before the bot restarted), where Discord would otherwise show "This interaction failed"."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import discord

log = logging.getLogger(__name__)

QUESTION_PREFIX = "cellphone:ask:"
IN_HAND = "question"  # interaction.extras key: a live question took the click
STALE_TEXT = (
    "⌛ these buttons no longer work: their question was answered, timed out, or was asked "
    "before the bot restarted. Run the command again."
)


class Question(discord.ui.View):
    """A view whose buttons answer one question: their custom ids carry a prefix of ours
    and a nonce, so that a click once it has ended is recognised by :func:`answer_stale`."""

    def __init__(self, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        nonce = secrets.token_hex(6)
        for index, item in enumerate(self.children):
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.custom_id = f"{QUESTION_PREFIX}{nonce}:{index}"

    def _dispatch_item(  # discord.py hands each click of a live view to this, at once
        self, item: discord.ui.Item[Any], interaction: discord.Interaction[Any]
    ) -> asyncio.Task[None] | None:
        task = super()._dispatch_item(item, interaction)
        if task is not None:
            interaction.extras[IN_HAND] = True
        return task


async def answer_stale(interaction: discord.Interaction[Any]) -> None:
    """Answer a click on buttons of a question no live view holds: the buttons go away for
    everyone, and the user is told why, privately."""
    if interaction.type is not discord.InteractionType.component:
        return
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    if not custom_id.startswith(QUESTION_PREFIX) or interaction.extras.get(IN_HAND):
        return
    log.info("%s clicked %s of a question no longer open", interaction.user, custom_id)
    try:
        await interaction.response.edit_message(view=None)
        await interaction.followup.send(STALE_TEXT, ephemeral=True)
    except discord.HTTPException:
        log.exception("could not answer the click on the stale button %s", custom_id)
