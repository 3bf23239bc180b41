"""The one place where a failed command becomes an answer. Refusals and domain errors tell
the user why (privately); anything unexpected is logged with its traceback under an
incident id that the user is given."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from agents import UnknownAgentError, WorkspaceError
from agents.onboarding import OnboardingTemplateError
from backups.errors import BackupError
from bot.access import NotAllowedError
from bot.audit import Auditor, arguments_of
from bot.reply import InteractionReply, Reply
from config import ConfigError
from coordinates import CoordinatesFileError, InvalidCoordinatesError
from coordinates.errors import NoDisplayError
from devlogs.entry import InvalidDevlogError
from messaging.errors import MessagingError

log = logging.getLogger(__name__)


class BotInputError(Exception):
    """Input the bot cannot use (a file of the wrong kind, a desk that is not here...)."""


DOMAIN_ERRORS: tuple[type[Exception], ...] = (
    BotInputError,
    UnknownAgentError,
    OnboardingTemplateError,
    BackupError,
    InvalidDevlogError,
    MessagingError,
    CoordinatesFileError,
    InvalidCoordinatesError,
    NoDisplayError,
    WorkspaceError,
    ConfigError,
)
INPUT_ERRORS: tuple[type[Exception], ...] = (
    app_commands.TransformerError,
    commands.UserInputError,
)


@dataclass(frozen=True)
class Verdict:
    text: str  # what the user is told
    outcome: str  # what the audit log records


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | commands.CommandInvokeError):
        error = error.original
    return error


def judge(error: BaseException, *, where: str, user: discord.abc.User) -> Verdict:
    """What to say about ``error`` raised by ``where`` for ``user``; logs as it goes."""
    error = unwrap(error)
    if isinstance(error, NotAllowedError | commands.CheckFailure):
        reason = str(error)
        log.warning("refused %s for %s (%s): %s", where, user, user.id, reason)
        return Verdict(f"⛔ {reason}", f"refused: {reason}")
    if isinstance(error, DOMAIN_ERRORS + INPUT_ERRORS):
        log.info("%s for %s failed: %s", where, user, error)
        return Verdict(f"⚠️ {error}", f"error: {error}")
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        log.warning("%s: %s", where, error)
        return Verdict(
            "⚠️ this command changed since Discord last synced; try again in a minute",
            f"error: {error}",
        )
    incident = secrets.token_hex(4)
    log.error("internal error %s in %s for %s", incident, where, user, exc_info=error)
    return Verdict(
        f"💥 internal error {incident}: the bot's log has the details under this id",
        f"internal error {incident}",
    )


class ErrorHandler:
    def __init__(self, auditor: Auditor) -> None:
        self.auditor = auditor

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command
        where = f"/{command.qualified_name}" if command else "interaction"
        await self.handle(interaction, error, where, arguments_of(interaction))

    async def handle(
        self,
        interaction: discord.Interaction[Any],
        error: BaseException,
        where: str,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        """Answer ``interaction`` about ``error`` and audit it (views and modals call this)."""
        verdict = judge(error, where=where, user=interaction.user)
        if interaction.type is discord.InteractionType.autocomplete:
            return
        reply = interaction.extras.get("reply") or InteractionReply(interaction)
        await tell(reply, verdict.text, where)
        await self.auditor.record(interaction.user, where, arguments or {}, verdict.outcome)


async def tell(reply: Reply, text: str, where: str) -> None:
    try:
        await reply.tell(text)
    except discord.HTTPException:
        log.exception("could not answer %s with %r", where, text)
