"""The ``cellphone`` command: one entry point composing the commands each domain offers.

Start-up time: agents run ``cellphone send`` to message each other, so the CLI must start
at once. The modules registered here (each package's ``cli``) are cheap to import; a
command whose work needs discord.py, openai, the display libraries (pyautogui, pynput,
python-xlib, screeninfo), PIL or watchdog imports the module holding that work in its own
body, since importing them costs most of a second that ``--help``, ``send`` and every other
command would otherwise pay. ``tests/test_startup.py`` keeps it so.
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
import sys
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.main import get_command_name
from typer.models import CommandInfo

from agents import cli as agents_cli
from agents.errors import UnknownAgentError, WorkspaceError
from backups import cli as backups_cli
from backups.errors import BackupError
from bot import cli as bot_cli
from config.cli import check_arguments, error_console
from config.errors import ConfigError
from coordinates import cli as coordinates_cli
from coordinates.errors import CoordinatesFileError, InvalidCoordinatesError
from devlogs import cli as devlogs_cli
from messaging.cli import MessagingCommands
from messaging.errors import MessagingError
from messaging.screen import cli as screen_cli
from messaging.screen import wants_screen

if TYPE_CHECKING:
    from config.settings import Home, Settings
    from messaging.deliver import ScreenDeliverer

EXIT_BAD_INPUT = 2
EXIT_STOPPED = 130  # Ctrl-C, as shells report it
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
    """The screen deliverer of this process (None: inbox only); the display modules are
    loaded only when this process may type."""
    if not wants_screen(settings):
        return None
    from messaging.screen.gui import screen_for as gui_screen_for

    return gui_screen_for(settings)


def status_checks(home: Home, settings: Settings) -> list[tuple[str, str, str]]:
    """The health checks ``status`` shows, from the backup machinery."""
    from backups.doctor import status_checks as checks

    return checks(home, settings)


def alongside_desk(home: Home, settings: Settings) -> AbstractAsyncContextManager[None]:
    """What a long-running desk runs beside it (the backup schedule)."""
    from backups.schedule import alongside_desk as schedule

    return schedule(home, settings)


app = typer.Typer(
    name="cellphone",
    help="Drive a swarm of desktop AI coding agents: send, broadcast, watch outcomes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

agents_cli.register(app)
MessagingCommands(screen_for, alongside_desk, status_checks, devlogs_cli.watching).register(app)
screen_cli.register(app)
app.add_typer(coordinates_cli.app, name="coords")
bot_cli.register(app, screen_for)
backups_cli.register(app)
devlogs_cli.register(app)


@app.callback()
def _root() -> None:
    """Drive a swarm of desktop AI coding agents: send, broadcast, watch outcomes."""


def only_the_command_of(args: list[str]) -> typer.Typer:
    """The app holding only the command that ``args`` name. Typer reads the signature of
    every command it holds before it runs one, a third of the start-up of ``send``; the root
    callback keeps the app a group of commands, however few it holds. For ``--help`` (or no
    arguments, or a name that is no command, whose error lists them) every command is there,
    but as an outline: the list shows names and help texts, never parameters, so none is
    read."""
    name = args[0] if args else None
    commands = [c for c in app.registered_commands if _name(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return outline(app)
    lean = copy.copy(app)
    lean.registered_commands, lean.registered_groups = commands, groups
    return lean


def outline(full: typer.Typer) -> typer.Typer:
    """``full`` with every command standing in by its name and help text only."""
    lean = copy.copy(full)
    lean.registered_commands = [_outline_command(command) for command in full.registered_commands]
    lean.registered_groups = []
    for group in full.registered_groups:
        stand_in = copy.copy(group)
        if isinstance(group.typer_instance, typer.Typer):
            stand_in.typer_instance = outline(group.typer_instance)
        lean.registered_groups.append(stand_in)
    return lean


def _outline_command(command: CommandInfo) -> CommandInfo:
    stand_in = copy.copy(command)
    stand_in.name = _name(command)
    stand_in.help = command.help or inspect.getdoc(command.callback)
    stand_in.callback = _no_parameters
    return stand_in


def _no_parameters() -> None:
    """Never run: outlined commands are only listed."""
    raise AssertionError("an outlined command was run")


def _name(command: CommandInfo) -> str:
    return command.name or get_command_name(command.callback.__name__ if command.callback else "")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI. Usage and domain errors exit 2 with one line on standard error."""
    logging.basicConfig(
        level=os.environ.get("CELLPHONE_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    args = sys.argv[1:] if argv is None else argv
    try:
        check_arguments(args)
        code = only_the_command_of(args)(args=args, prog_name="cellphone", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # a group named alone: its help, as a usage error
        exc.show()
        return EXIT_BAD_INPUT
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "cellphone"
        message = " ".join(exc.format_message().split()).rstrip(".")
        error_console().print(f"error: {message}; see `{where} --help`", markup=False)
        return EXIT_BAD_INPUT
    except typer.Abort:
        error_console().print("stopped")
        return EXIT_STOPPED
    except USER_ERRORS as exc:
        error_console().print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
