"""An agent's MCP session for the tests: the real ``cellphone mcp`` process, spoken to by the
MCP SDK's own client over its standard input and output."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client

CELLPHONE = str(Path(sys.executable).with_name("cellphone"))


def server(home: Path, agent_id: str) -> StdioServerParameters:
    """``cellphone mcp`` as an agent CLI starts it; the SDK gives it a small environment of
    its own (no DISPLAY: every delivery goes to the inbox)."""
    return StdioServerParameters(
        command=CELLPHONE, args=["mcp", "--home", str(home), "--as", agent_id]
    )


@contextlib.asynccontextmanager
async def agent_session(home: Path, agent_id: str) -> AsyncIterator[ClientSession]:
    async with (
        stdio_client(server(home, agent_id)) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> tuple[str, bool]:
    """The text a tool call came back with, and whether it is a tool error."""
    result = await session.call_tool(tool, arguments)
    texts = [block.text for block in result.content if block.type == "text"]
    return "\n".join(texts), bool(result.is_error)
