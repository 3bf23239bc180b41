"""The ``cellphone`` command: one entry point composing the commands each domain offers.

Start-up time: agents run ``cellphone send`` to message each other, so the CLI must start
at once. The modules registered here (each package's ``cli``) are cheap to import; a
command whose work needs discord.py, openai, the display libraries (pyautogui, pynput,
python-xlib, screeninfo), PIL or watchdog imports the module holding that work in its own
body, since importing them costs most of a second that ``--help``, ``send`` and every other
command would otherwise pay. ``tests/test_startup.py`` keeps it so.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from agents import UnknownAgentError, WorkspaceError
from agents import cli as agents_cli
from backups import cli as backups_cli
from backups.errors import BackupError
from bot import cli as bot_cli
from config import ConfigError, Settings
from config.cli import error_console
from coordinates import CoordinatesFileError, InvalidCoordinatesError
from coordinates import cli as coordinates_cli
from messaging.cli import MessagingCommands
from messaging.deliver import ScreenDeliverer
from messaging.errors import MessagingError
from messaging.screen import cli as screen_cli

EXIT_BAD_INPUT = 2
USER_ERRORS = (
    BackupError,
    ConfigError,
    CoordinatesFileError,
    InvalidCoordinatesError,
    UnknownAgentError,
    MessagingError,
    WorkspaceError,
    ValueError,
)


def screen_for(settings: Settings) -> ScreenDeliverer | None:
    """The screen deliverer of this process (None: inbox only), from the display modules."""
    from messaging.screen.gui import screen_for as gui_screen_for

    return gui_screen_for(settings)


app = typer.Typer(
    name="cellphone",
    help="Drive a swarm of desktop AI coding agents: send, broadcast, watch outcomes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

agents_cli.register(app)
MessagingCommands(screen_for).register(app)
screen_cli.register(app)
app.add_typer(coordinates_cli.app, name="coords")
bot_cli.register(app, screen_for)
backups_cli.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI. Usage errors exit 2 (from Typer), domain errors 2 with one line."""
    logging.basicConfig(
        level=os.environ.get("CELLPHONE_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        app(args=argv)
    except USER_ERRORS as exc:
        error_console().print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
