"""The MCP server of one agent over stdio, built on the SDK's low-level server: it lists the
tools of :mod:`messaging.mcp.schemas` and runs each call through :class:`AgentTools`. A
domain error (bad input, an unknown agent or message) comes back as a tool error holding
the one line the ``cellphone`` commands print; nothing was stored."""

from __future__ import annotations

import logging
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from agents.errors import UnknownAgentError, WorkspaceError
from config import Home, Settings
from messaging.errors import MessagingError
from messaging.mcp.schemas import TOOLS
from messaging.mcp.tools import AgentTools, DevlogPoster, ScreenSource
from messaging.runtime import open_runtime

log = logging.getLogger(__name__)

NAME = "cellphone"
REFUSED = (MessagingError, UnknownAgentError, WorkspaceError, ValueError)
INSTRUCTIONS = (
    "You are {agent} in a swarm of coding agents. These tools message the other agents "
    "(send_message), read and acknowledge your inbox, set your status and post devlogs; "
    "every message you send is from {agent}."
)
LISTED = types.ListToolsResult(
    tools=[
        types.Tool(name=name, description=description, input_schema=schema)
        for name, (description, schema) in TOOLS.items()
    ]
)


def build(tools: AgentTools, version: str = "") -> Server[Any]:
    """The low-level server answering with ``tools``."""

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return LISTED

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            text = await tools.call(params.name, params.arguments)
        except REFUSED as exc:
            return _result(f"error: {exc}", error=True)
        except Exception as exc:
            log.exception("tool %s failed", params.name)
            return _result(
                f"error: {params.name} failed ({type(exc).__name__}: {exc}); the server's "
                "standard error holds the details",
                error=True,
            )
        return _result(text)

    return Server(
        NAME,
        version=version,
        instructions=INSTRUCTIONS.format(agent=tools.agent_id),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve(
    home: Home,
    settings: Settings,
    agent_id: str,
    screen: ScreenSource,
    post_devlog: DevlogPoster | None,
) -> None:
    """Serve ``agent_id``'s tools on standard input and output until the client hangs up."""
    async with open_runtime(home, settings, start_desk=False) as base:
        server = build(AgentTools(base, agent_id, screen, post_devlog))
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())


def _result(text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)
