"""The ``cellphone`` command: one entry point composing the commands each domain offers."""

from __future__ import annotations

import logging
import os
import sys

import typer

from agents import UnknownAgentError, WorkspaceError
from agents import cli as agents_cli
from bot import cli as bot_cli
from config import ConfigError
from config.cli import error_console
from coordinates import CoordinatesFileError, InvalidCoordinatesError
from coordinates import cli as coordinates_cli
from messaging.cli import MessagingCommands
from messaging.errors import MessagingError
from messaging.screen import cli as screen_cli
from messaging.screen.gui import screen_for

EXIT_BAD_INPUT = 2
USER_ERRORS = (
    ConfigError,
    CoordinatesFileError,
    InvalidCoordinatesError,
    UnknownAgentError,
    MessagingError,
    WorkspaceError,
    ValueError,
)

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
