"""The audit log of the bot: who ran what, with which arguments (long text shortened), and
how it ended. Rows go to the store through the messaging service."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from enum import Enum
from typing import Any

import discord

from messaging.errors import StoreError
from messaging.service import MessageService

log = logging.getLogger(__name__)

KEEP = 80  # characters of a text argument kept in the log


def actor(user: discord.abc.User) -> str:
    return f"discord:{user.id} ({user.name})"


def shorten(value: Any) -> Any:
    """An argument as the audit log keeps it: text cut to ``KEEP`` characters, files by
    name and size, anything else as plain JSON-able values."""
    if isinstance(value, str):
        value = storable(value)
        return value if len(value) <= KEEP else f"{value[: KEEP - 1]}… ({len(value):,} chars)"
    if isinstance(value, discord.Attachment):
        return f"file {value.filename} ({value.size:,} bytes)"
    if isinstance(value, Enum):
        return shorten(value.value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [shorten(v) for v in value]
    return shorten(str(value))


def storable(text: str) -> str:
    """``text`` with what UTF-8 cannot hold (a lone surrogate, which Discord's JSON can
    carry) written as its escape, ``\\ud800``."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def arguments_of(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    return {name: shorten(value) for name, value in interaction.namespace}


class Auditor:
    def __init__(self, service: MessageService) -> None:
        self.service = service

    async def record(
        self,
        user: discord.abc.User,
        command: str,
        arguments: Mapping[str, Any],
        outcome: str,
    ) -> None:
        shortened = {name: shorten(value) for name, value in arguments.items()}
        try:
            await self.service.audit(storable(actor(user)), command, shortened, storable(outcome))
        except (sqlite3.Error, StoreError):
            log.exception("could not write the audit row for %s by %s", command, actor(user))
