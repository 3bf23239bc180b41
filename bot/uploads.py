"""Files the bot uploads, kept within Discord's upload limit: a file over it is left off
and a line says so, instead of an upload Discord refuses (413, code 40005)."""

from __future__ import annotations

import io
import logging
from typing import Any

import discord

log = logging.getLogger(__name__)

MIB = 1024 * 1024


def interaction_limit(interaction: discord.Interaction[Any]) -> int:
    """The largest file an answer to ``interaction`` may carry (Discord sends it with
    every interaction, as ``attachment_size_limit``)."""
    return interaction.filesize_limit


def channel_limit(guild: discord.Guild | None) -> int:
    """The largest file a post in a channel of ``guild`` may carry: the guild's limit by
    its boosts when it is cached, else Discord's default."""
    return (
        guild.filesize_limit if guild is not None else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
    )


def size(count: int) -> str:
    return f"{count / MIB:.1f} MiB" if count >= MIB else f"{count / 1024:.1f} KiB"


def too_big(name: str, length: int, limit: int) -> str | None:
    """The line to show instead of a file of ``length`` bytes, or None when it fits."""
    if length <= limit:
        return None
    return (
        f"{name} ({size(length)}) is over Discord's upload limit here ({size(limit)}): not attached"
    )


def capped(name: str, data: bytes, limit: int) -> tuple[discord.File | None, str | None]:
    """``data`` as a file named ``name`` when it fits under ``limit``; else no file and the
    line that says why."""
    problem = too_big(name, len(data), limit)
    if problem is not None:
        log.warning("%s", problem)
        return None, problem
    return discord.File(io.BytesIO(data), filename=name), None
