"""``cellphone mcp``: an agent's tools served over MCP on standard input and output, for the
agent CLIs (Claude Code, Codex CLI, Gemini CLI) to start; ``--entry`` prints what to put in
each CLI's own configuration file instead, and ``--host`` keeps the SDK loaded for a home so
that the servers the CLIs start answer at once. The MCP SDK is loaded when a server starts
on its own, and never for ``--entry`` or a start handed to the host."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from config.cli import HomeOption, error_console, open_home

if TYPE_CHECKING:
    from config.settings import Home, Settings
    from messaging.deliver import ScreenDeliverer

ScreenProvider = Callable[["Settings"], "ScreenDeliverer | None"]
DevlogPoster = Callable[["Home", "Settings", str, str, str], Awaitable[str]]


class McpCommand:
    """The command, bound to how this process reaches the screen and posts devlogs."""

    def __init__(self, screen_provider: ScreenProvider, post_devlog: DevlogPoster) -> None:
        self.screen_provider = screen_provider
        self.post_devlog = post_devlog

    def register(self, app: typer.Typer) -> None:
        app.command(name="mcp")(self.mcp)

    def mcp(
        self,
        agent: Annotated[
            str | None,
            typer.Option(
                "--as", metavar="AGENT", help="The agent the tools act as (and send from)."
            ),
        ] = None,
        entry: Annotated[
            str | None,
            typer.Option(
                metavar="CLI",
                help="Print the entry of claude, codex or gemini that starts this server, "
                "instead of serving.",
            ),
        ] = None,
        write: Annotated[
            bool,
            typer.Option(
                help="With --entry: add it to the CLI's configuration file (in --project, or "
                "the user's) instead of printing it."
            ),
        ] = False,
        trust: Annotated[
            bool,
            typer.Option(
                help="With --entry: let the CLI run the tools without asking first (Claude "
                "Code: permissions.allow; Codex: default_tools_approval_mode; Gemini: trust)."
            ),
        ] = False,
        project: Annotated[
            str | None,
            typer.Option(
                metavar="FOLDER", help="With --entry: the project folder the agent CLI works in."
            ),
        ] = None,
        host: Annotated[
            bool,
            typer.Option(
                "--host",
                help="Instead: keep the MCP SDK loaded for this home until stopped; each "
                "`cellphone mcp --as` started meanwhile is handed to it and answers at once.",
            ),
        ] = False,
        home: HomeOption = None,
    ) -> None:
        """Serve an agent's tools to its CLI over MCP (stdio): send messages, read and
        acknowledge its inbox, set its status, post devlogs, list the agents."""
        where, settings = open_home(home)
        if host:
            if agent is not None or entry is not None:
                raise ValueError("--host serves every agent of the home; give it alone")
            from messaging.mcp.host import run_host

            run_host(where.root, self.screen_provider, self.post_devlog)
            return
        if agent is None:
            raise ValueError("name the agent the tools act as: --as AGENT (e.g. --as Agent-1)")
        from agents.registry import Registry
        from coordinates.file import load_coordinates

        agent_id = Registry.from_file(load_coordinates(where.coordinates_file)).get(agent).agent_id
        if entry is not None:
            from agents.mcp_entries import show_entry

            text = show_entry(
                entry, where.root, agent_id, project=project, write=write, trusted=trust
            )
            typer.echo(text)
            return
        if write or trust or project is not None:
            raise ValueError("--write, --trust and --project go with --entry CLI")
        from messaging.mcp.handover import hand_over, host_socket

        handed = hand_over(host_socket(where.var_dir), agent_id)
        if handed is not None:  # the home's warm host served it
            raise typer.Exit(handed)
        import asyncio

        from messaging.mcp.server import serve
        from messaging.mcp.tools import lazy_screen

        screen = lazy_screen(self.screen_provider, settings, where.var_dir / "looks")
        try:
            asyncio.run(serve(where, settings, agent_id, screen, self.post_devlog))
        except KeyboardInterrupt:
            error_console().print("stopped")
