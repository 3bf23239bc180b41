"""The ``cellphone`` command: one entry point composing the commands each domain offers.

Start-up time: agents run ``cellphone send`` to message each other, so the CLI must start
at once. A command loads only the package ``cli`` module that offers it (:data:`COMMANDS`
says which; ``--help`` loads them all, and lists the commands without reading their
parameters). Those modules are cheap to import: a command whose work needs the store,
asyncio, rich, discord.py, openai, the display libraries (pyautogui, pynput, python-xlib,
screeninfo), PIL or watchdog imports the module holding that work in its own body.
``tests/test_startup.py`` keeps it so.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
import os
import sys
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.main import get_command_name
from typer.models import CommandInfo

from agents.errors import UnknownAgentError, WorkspaceError
from backups.errors import BackupError
from config.cli import check_arguments, error_console
from config.errors import ConfigError
from coordinates.errors import CoordinatesFileError, InvalidCoordinatesError
from messaging.errors import MessagingError
from messaging.screen import wants_screen

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from config.settings import Home, Settings
    from messaging.deliver import ScreenDeliverer
    from messaging.runtime import Runtime

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


@contextlib.asynccontextmanager
async def alongside_desk(home: Home, settings: Settings) -> AsyncIterator[None]:
    """What a long-running desk runs beside it: the backup schedule, and the warm MCP host
    of the home (agent CLIs' ``cellphone mcp`` servers start in 0.1 to 0.2 s through it)."""
    from backups.schedule import alongside_desk as schedule
    from messaging.mcp.handover import host_beside

    async with schedule(home, settings), host_beside(home.root):
        yield


def watching(rt: Runtime) -> AbstractAsyncContextManager[None]:
    """What follows the agents' files beside a long-running desk (outbox routing, devlogs)."""
    from devlogs.cli import watching as devlog_watchers

    return devlog_watchers(rt)


async def post_devlog(home: Home, settings: Settings, agent: str, title: str, text: str) -> str:
    """Post a devlog as ``cellphone devlog create`` does; the line it prints."""
    from devlogs.cli import _create

    result = await _create(home, settings, agent, title, text, summarize=False)
    return f"devlog {result['devlog']} by {agent}: {result['detail']}"


def _agents(app: typer.Typer) -> None:
    from agents import cli

    cli.register(app, remote_agents)


def remote_agents(settings: Settings, local: set[str]) -> list[dict[str, object]]:
    """At a coordinator, the agents other machines' desks serve (read from its Redis), for
    ``cellphone agents``: agents/ knows nothing of the cluster, which lives in messaging."""
    import asyncio

    from messaging.cluster.presence import agent_rows

    return asyncio.run(agent_rows(settings.cluster, local))


def _messaging(app: typer.Typer) -> None:
    from messaging.cli import MessagingCommands

    MessagingCommands(screen_for, alongside_desk, status_checks, watching).register(app)


def _screen(app: typer.Typer) -> None:
    from messaging.screen import cli

    cli.register(app)


def _coordinates(app: typer.Typer) -> None:
    from coordinates import cli

    app.add_typer(cli.app, name="coords")


def _bot(app: typer.Typer) -> None:
    from bot import cli

    cli.register(app, screen_for)


def _backups(app: typer.Typer) -> None:
    from backups import cli

    cli.register(app)


def _devlogs(app: typer.Typer) -> None:
    from devlogs import cli

    cli.register(app)


def _cluster(app: typer.Typer) -> None:
    from messaging.cluster import cli

    cli.register(app, screen_for)


def _mcp(app: typer.Typer) -> None:
    from messaging.mcp.cli import McpCommand

    McpCommand(screen_for, post_devlog).register(app)


# each package's commands, in the order --help lists them
REGISTER: dict[str, Callable[[typer.Typer], None]] = {
    "agents": _agents,
    "messaging": _messaging,
    "mcp": _mcp,
    "cluster": _cluster,
    "screen": _screen,
    "coordinates": _coordinates,
    "bot": _bot,
    "backups": _backups,
    "devlogs": _devlogs,
}
# which of them offers each command (tests/test_startup.py holds it to what they register)
COMMANDS = {
    **dict.fromkeys(("init", "agents"), "agents"),
    **dict.fromkeys(
        ("send", "broadcast", "retry", "history", "status", "deliver", "pause", "resume", "ack"),
        "messaging",
    ),
    "mcp": "mcp",
    "desk": "cluster",
    **dict.fromkeys(("onboard", "demo"), "screen"),
    "coords": "coordinates",
    "bot": "bot",
    **dict.fromkeys(("backup", "doctor"), "backups"),
    "devlog": "devlogs",
}


def build(packages: list[str] | None = None) -> typer.Typer:
    """The ``cellphone`` app with the commands of ``packages`` (every one by default)."""
    app = typer.Typer(
        name="cellphone",
        help="Drive a swarm of desktop AI coding agents: send, broadcast, watch outcomes.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    for package in REGISTER if packages is None else packages:
        REGISTER[package](app)
    app.callback()(_root)
    return app


def _root() -> None:
    """Drive a swarm of desktop AI coding agents: send, broadcast, watch outcomes."""


def only_the_command_of(args: list[str]) -> typer.Typer:
    """The app holding only the command that ``args`` name, built from the one package
    offering it: typer reads the signature of every command it holds before it runs one.
    The root callback keeps the app a group of commands, however few it holds. For
    ``--help`` (or no arguments, or a name that is no command, whose error lists them)
    every command is there, but as an outline: the list shows names and help texts, never
    parameters, so none is read."""
    name = args[0] if args else None
    package = COMMANDS.get(name or "")
    if package is None:
        return outline(build())
    app = build([package])
    app.registered_commands = [c for c in app.registered_commands if _name(c) == name]
    app.registered_groups = [g for g in app.registered_groups if g.name == name]
    return app


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
        error_console().print(f"error: {message}; see `{where} --help`")
        return EXIT_BAD_INPUT
    except typer.Abort:
        error_console().print("stopped")
        return EXIT_STOPPED
    except USER_ERRORS as exc:
        error_console().print(f"error: {exc}")
        return EXIT_BAD_INPUT
    return code if isinstance(code, int) else 0


def run() -> NoReturn:
    """The installed ``cellphone`` command: :func:`main`, then the process ends without
    tearing the interpreter down. Finalising the modules a command loaded (asyncio, the
    store, PIL, python-xlib) took 40-60 ms of every ``cellphone send`` and frees nothing the
    system does not; what could be lost is written first: standard output and error are
    flushed and logging shut down. Every command has closed its store, desk, display and
    threads by the time :func:`main` returns; programs it leaves behind on purpose (the
    clipboard's keeper) are processes of their own."""
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
