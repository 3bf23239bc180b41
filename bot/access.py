"""Who may command the swarm: operators (allowed users and roles) and admins (the stricter
lists, for broadcasts and anything that changes the swarm's setup)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol, TypeVar, cast

import discord
from discord import app_commands

from config import DiscordSettings

log = logging.getLogger(__name__)

T = TypeVar("T")


class Level(IntEnum):
    OPERATOR = 1
    ADMIN = 2


class NotAllowedError(app_commands.CheckFailure):
    """The user may not run this; the message says why and whom to ask."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def role_ids_of(user: discord.abc.User) -> set[int]:
    """The ids of the roles ``user`` has, as the interaction (or message) itself listed
    them in its ``member.roles``. ``Member.roles`` keeps only roles of a guild discord.py
    has cached, and none when the app is in the guild without its bot user or the guild
    is unavailable; discord.py keeps the payload's ids as they came in ``_roles``."""
    if isinstance(user, discord.Member):
        return set(user._roles)
    return set()


@dataclass(frozen=True)
class Access:
    settings: DiscordSettings

    def level_of(self, user: discord.abc.User) -> Level | None:
        roles = role_ids_of(user)
        s = self.settings
        if user.id in s.admin_user_ids or roles & set(s.admin_role_ids):
            return Level.ADMIN
        if user.id in s.allowed_user_ids or roles & set(s.allowed_role_ids):
            return Level.OPERATOR
        return None

    def require(self, user: discord.abc.User, guild_id: int | None, level: Level) -> None:
        """Raise :class:`NotAllowedError` unless ``user`` has ``level`` here."""
        s = self.settings
        home = s.guild_id
        if home is not None and guild_id != home:
            raise NotAllowedError(f"this bot takes commands only in its server (id {home})")
        held = self.level_of(user)
        if held is None and guild_id is None and (s.allowed_role_ids or s.admin_role_ids):
            raise NotAllowedError(
                "in a direct message you have no server roles, so your role does not count "
                "here: run the command in the server, or an admin can add your user id "
                f"({user.id}) to discord.allowed_user_ids"
            )
        if held is None:
            raise NotAllowedError(
                "you are not allowed to command the swarm; an admin can add your user id "
                f"({user.id}) or one of your roles to discord.allowed_user_ids / allowed_role_ids"
            )
        if held < level:
            raise NotAllowedError(
                "this command needs an admin; an admin can add your user id "
                f"({user.id}) or a role to discord.admin_user_ids / admin_role_ids"
            )

    def allows(self, user: discord.abc.User, guild_id: int | None, level: Level) -> bool:
        try:
            self.require(user, guild_id, level)
        except NotAllowedError:
            return False
        return True

    def warn_if_closed(self) -> None:
        s = self.settings
        if not (s.allowed_user_ids or s.allowed_role_ids or s.admin_user_ids or s.admin_role_ids):
            log.warning(
                "no Discord user or role may command the swarm: set discord.allowed_user_ids "
                "or discord.allowed_role_ids"
            )


class Guarded(Protocol):
    """A client that knows who may do what (the bot)."""

    @property
    def access(self) -> Access: ...


def access_of(interaction: discord.Interaction[Any]) -> Access:
    return cast(Guarded, interaction.client).access


def requires(level: Level) -> Callable[[T], T]:
    """An application-command check: the user needs ``level``."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        access_of(interaction).require(interaction.user, interaction.guild_id, level)
        return True

    return app_commands.check(predicate)
