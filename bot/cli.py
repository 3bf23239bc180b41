"""``cellphone bot``: run the Discord bot for a home. The command imports discord.py (in
``bot.app``) itself, as the root ``cellphone`` module explains."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from config.cli import HomeOption, console, open_home

if TYPE_CHECKING:
    from config.settings import Settings
    from messaging.deliver import ScreenDeliverer

ScreenProvider = Callable[["Settings"], "ScreenDeliverer | None"]


class BotCommand:
    def __init__(self, screen_provider: ScreenProvider | None = None) -> None:
        self.screen_provider = screen_provider

    def register(self, app: typer.Typer) -> None:
        app.command(name="bot")(self.bot)

    def bot(self, home: HomeOption = None) -> None:
        """Run the Discord bot (token from DISCORD_TOKEN or .env) until Ctrl-C."""
        import asyncio

        from bot.app import run_bot, token_of

        where, settings = open_home(home)
        token_of(settings, where)  # no token: say so before starting anything
        screen = self.screen_provider(settings) if self.screen_provider else None
        console().print(f"bot starting for {where.root}; Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_bot(where, settings, screen=screen))


def register(app: typer.Typer, screen_provider: ScreenProvider | None = None) -> None:
    """Add ``cellphone bot`` to ``app``; deliveries use ``screen_provider``'s screen."""
    BotCommand(screen_provider).register(app)
