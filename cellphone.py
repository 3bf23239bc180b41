"""The ``cellphone`` command: one entry point composing the commands each domain offers."""

from __future__ import annotations

import logging
import os
import sys

import typer

from agents import UnknownAgentError, WorkspaceError
from agents import cli as agents_cli
from config import ConfigError, Settings
from config.cli import error_console
from coordinates import CoordinatesFileError, InvalidCoordinatesError
from messaging.cli import MessagingCommands
from messaging.deliver import ScreenDeliverer
from messaging.errors import MessagingError

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
)


def screen_for(settings: Settings) -> ScreenDeliverer | None:
    """No screen delivery yet in this build: every delivery goes to the inbox."""
    return None


agents_cli.register(app)
MessagingCommands(screen_for).register(app)


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
