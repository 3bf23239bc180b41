"""Composing the bot with the runtime of a home, and running it until stopped."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import discord
import yarl
from discord.gateway import DiscordWebSocket

from backups.doctor import ready_to_start
from bot.client import CellphoneBot, LayoutPicture
from config import ConfigError, DiscordSettings, Home, Settings
from coordinates import load_coordinates
from coordinates.layout import Layout, read_layout
from coordinates.picture import draw_layout
from messaging.deliver import ScreenDeliverer
from messaging.runtime import Runtime, open_runtime

log = logging.getLogger(__name__)

AUTHENTICATION_FAILED = 4004  # "Gateway Close Event Codes": the token was refused


def create_bot(
    rt: Runtime,
    settings: Settings,
    *,
    layout_picture: LayoutPicture | None = None,
) -> CellphoneBot:
    """The bot for ``rt``; nothing connects until it is started."""
    point_at_api(settings.discord)
    return CellphoneBot(
        rt,
        settings,
        layout_picture=layout_picture,
    )


def point_at_api(settings: DiscordSettings) -> None:
    """Use the REST and gateway addresses of the settings (only tests change them)."""
    if settings.api_base:
        discord.http.Route.BASE = settings.api_base.rstrip("/")
    if settings.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def layout_png(home: Home, read: Callable[[], Layout] = read_layout) -> LayoutPicture:
    """A PNG of the live monitors with every agent's points (blocking: run it in a thread).
    Without a display it raises :class:`coordinates.errors.NoDisplayError`."""

    def draw() -> bytes:
        layout = read()
        agents = load_coordinates(home.coordinates_file).agents.values()
        buffer = io.BytesIO()
        draw_layout(layout, agents).save(buffer, format="PNG")
        return buffer.getvalue()

    return draw


def token_of(settings: Settings, home: Home) -> str:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError(
            f"DISCORD_TOKEN is not set; put DISCORD_TOKEN=<bot token> in {home.root / '.env'} "
            "or the environment"
        )
    return token


async def run_bot(
    home: Home,
    settings: Settings,
    *,
    screen: ScreenDeliverer | None = None,
    layout_picture: LayoutPicture | None = None,
) -> None:
    """Run the bot for ``home`` until it is stopped. A missing or refused token, or an
    intent Discord has not granted, raises :class:`ConfigError` with one clear line."""
    token = token_of(settings, home)
    ready_to_start(home, settings)
    async with open_runtime(home, settings, screen) as rt:
        picture = layout_picture or layout_png(home)
        bot = create_bot(rt, settings, layout_picture=picture)
        async with bot:
            try:
                await bot.start(token)
            except discord.LoginFailure:
                raise ConfigError(
                    "Discord refused the bot token (DISCORD_TOKEN); copy it again from the "
                    "Developer Portal, Bot page"
                ) from None
            except discord.ConnectionClosed as exc:
                if exc.code != AUTHENTICATION_FAILED:
                    raise
                raise ConfigError(
                    "Discord's gateway refused the bot token (DISCORD_TOKEN, close code 4004); "
                    "it may have been reset: copy it again from the Developer Portal, Bot page"
                ) from None
            except discord.PrivilegedIntentsRequired:
                raise ConfigError(
                    "discord.message_content_intent is on but the bot lacks the Message "
                    "Content intent; enable it in the Developer Portal or turn the setting off"
                ) from None
