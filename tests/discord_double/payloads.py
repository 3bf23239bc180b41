"""JSON payloads shaped like the ones Discord sends: users, members, guilds, messages,
interactions. Only the fields discord.py 2.7 reads, with plausible values."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Payload = dict[str, Any]

ALL_PERMISSIONS = str((1 << 50) - 1)
ADMINISTRATOR = 1 << 3
# the @everyone role's: all but Administrator, which would override every channel's
# permission overwrites ("Permissions › Permission Overwrites")
EVERYONE_PERMISSIONS = str(((1 << 50) - 1) & ~ADMINISTRATOR)
# "Uploading Files": a file may be up to 10 MiB in a guild without boosts (discord.py's
# Guild.filesize_limit agrees); an interaction carries its own as attachment_size_limit
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> int:
    """A fresh id, unique within this process."""
    return next(_snowflakes)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Person:
    """Somebody in the double's guild: a user with roles."""

    id: int
    name: str
    role_ids: tuple[int, ...] = ()
    bot: bool = False

    def user(self) -> Payload:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    def member(self, *, with_user: bool = True) -> Payload:
        payload: Payload = {
            "roles": [str(r) for r in self.role_ids],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "permissions": ALL_PERMISSIONS,
        }
        if with_user:
            payload["user"] = self.user()
        return payload


@dataclass(frozen=True)
class Role:
    id: int
    name: str
    position: int = 1

    def payload(self) -> Payload:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": "0" if self.position else EVERYONE_PERMISSIONS,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


# "Permissions › Bitwise Permission Flags"
VIEW_CHANNEL, SEND_MESSAGES, ATTACH_FILES = 1 << 10, 1 << 11, 1 << 15


@dataclass
class Channel:
    """Another text channel of the guild, and what the bot may do in it (a permission
    overwrite for the bot's member denies what it may not)."""

    id: int
    name: str
    view: bool = True  # VIEW_CHANNEL: without it the channel is Missing Access (50001)
    send: bool = True  # SEND_MESSAGES: without it a post is Missing Permissions (50013)
    attach: bool = True  # ATTACH_FILES: without it a post with a file is 50013 too

    def denied(self) -> int:
        return (
            (0 if self.view else VIEW_CHANNEL)
            | (0 if self.send else SEND_MESSAGES)
            | (0 if self.attach else ATTACH_FILES)
        )

    def payload(self, guild_id: int, bot_id: int) -> Payload:
        overwrites = []
        if self.denied():
            overwrites.append(
                {"id": str(bot_id), "type": 1, "allow": "0", "deny": str(self.denied())}
            )
        return {
            "id": str(self.id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": self.name,
            "position": 1,
            "permission_overwrites": overwrites,
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass
class Guild:
    """The one guild the double serves: its id, a text channel, roles."""

    id: int = field(default_factory=snowflake)
    name: str = "swarm"
    channel_id: int = field(default_factory=snowflake)
    channel_name: str = "ops"
    owner_id: int = field(default_factory=snowflake)
    roles: list[Role] = field(default_factory=list)
    more_channels: list[Channel] = field(default_factory=list)

    def channel(self) -> Payload:
        return {
            "id": str(self.channel_id),
            "type": 0,
            "guild_id": str(self.id),
            "name": self.channel_name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def create_payload(self, bot: Person) -> Payload:
        everyone = Role(self.id, "@everyone", position=0)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [everyone.payload(), *(r.payload() for r in self.roles)],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "voice_states": [],
            "members": [bot.member()],
            "channels": [
                self.channel(),
                *(c.payload(self.id, bot.id) for c in self.more_channels),
            ],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


def message(
    *,
    channel_id: int,
    author: Person,
    content: str = "",
    guild_id: int | None = None,
    message_id: int | None = None,
    components: list[Payload] | None = None,
    embeds: list[Payload] | None = None,
    attachments: list[Payload] | None = None,
    flags: int = 0,
    with_member: bool = False,
) -> Payload:
    payload: Payload = {
        "id": str(message_id or snowflake()),
        "channel_id": str(channel_id),
        "author": author.user(),
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "pinned": False,
        "type": 0,
        "flags": flags,
        "components": components or [],
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if with_member:
        payload["member"] = author.member(with_user=False)
    return payload


def interaction(
    *,
    kind: int,
    application_id: int,
    guild: Guild,
    user: Person,
    data: Payload,
    message_payload: Payload | None = None,
    upload_limit: int = ATTACHMENT_SIZE_LIMIT,
) -> Payload:
    """An INTERACTION_CREATE payload; ``kind`` is 2 command, 3 component, 4 autocomplete,
    5 modal submit."""
    payload: Payload = {
        "id": str(snowflake()),
        "application_id": str(application_id),
        "type": kind,
        "token": f"token-{snowflake()}",
        "version": 1,
        "guild_id": str(guild.id),
        "channel_id": str(guild.channel_id),
        "channel": guild.channel(),
        "member": user.member(),
        "data": data,
        "app_permissions": ALL_PERMISSIONS,
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": upload_limit,
    }
    if message_payload is not None:
        payload["message"] = message_payload
    return payload


def in_dm(payload: Payload, user: Person, channel_id: int, context: int = 1) -> Payload:
    """``payload`` as it comes from a DM: no guild, no member but ``user``, a DM channel,
    and context BOT_DM (1) with the guild install used in the bot's DM
    ("Interaction Object": authorizing_integration_owners is "0" there), or
    PRIVATE_CHANNEL (2) with the user's own install (the user's id under "1")."""
    dm = {k: v for k, v in payload.items() if k not in ("guild_id", "member", "guild_locale")}
    data = {k: v for k, v in dm["data"].items() if k != "guild_id"}
    return {
        **dm,
        "data": data,
        "user": user.user(),
        "channel_id": str(channel_id),
        "channel": {"id": str(channel_id), "type": 1, "recipients": [user.user()], "flags": 0},
        "context": context,
        "authorizing_integration_owners": {"0": "0"} if context == 1 else {"1": str(user.id)},
    }
