"""Claude Code, Codex CLI and Gemini CLI, each run once without a terminal (``claude -p``,
``codex exec``, ``gemini -p``) with ``cellphone mcp --as Agent-1`` configured by the entry
``cellphone mcp --entry`` writes, against a double of its model API that answers the prompt
with a call of the send tool and, once it has the tool's result, with a final text. The
message reaches Agent-2's inbox exactly once, from Agent-1, and the CLI hands the tool's
outcome (as ``cellphone send`` prints it) back to the model; with the server the CLI starts
serving on its own, and handed to the home's warm host.

The entries are written trusted (``--entry CLI --trust``), so each CLI runs the tool unasked
by its own setting: Claude Code's ``permissions.allow`` in ``.claude/settings.json``, Codex
CLI's ``default_tools_approval_mode = "approve"`` (``codex exec`` never asks, and refuses an
MCP call that would need asking), Gemini CLI's ``"trust": true`` (untrusted, the
non-interactive CLI offers the model none of the server's tools). Besides:

- Claude Code is given the written ``.mcp.json`` with ``--mcp-config`` (a project's own file
  waits for the user to approve it), and ``ENABLE_TOOL_SEARCH=false`` offers the MCP tools to
  the model at once (by default they wait behind a tool-search tool the double does not speak).
- Codex CLI runs a model it has no metadata for: every model Codex 0.169 knows reaches tools
  only through a JavaScript ``exec`` tool, while the fallback offers them as functions
  (``send_message`` of the ``mcp__cellphone`` namespace).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agents.frontmatter import parse
from agents.mcp_entries import show_entry
from config import Home, load_settings
from messaging.mcp.handover import host_socket
from messaging.runtime import open_runtime
from messaging.store import HistoryEntry
from tests.agent_clis import claude, codex, gemini
from tests.agent_clis.model_api.anthropic import AnthropicDouble
from tests.agent_clis.model_api.base import ModelApiDouble, ToolCall
from tests.agent_clis.model_api.gemini import GeminiDouble
from tests.agent_clis.model_api.responses import ResponsesDouble
from tests.agent_clis.recipe import Recipe, end_processes
from tests.conftest import inbox_files, make_home
from tests.mcp.client import CELLPHONE

pytestmark = pytest.mark.slow

RUN_S = 180.0  # a CLI's start (Codex unpacks itself the first time), the turn, its end
PROMPT = "Tell Agent-2 that the build is green."


@dataclass(frozen=True)
class Cli:
    name: str
    double: Callable[[ToolCall], ModelApiDouble]
    recipe: Callable[[Path, ModelApiDouble], Recipe]
    run: Callable[[Recipe, Home], tuple[list[str], dict[str, str]]]  # argv, environment


def claude_run(recipe: Recipe, home: Home) -> tuple[list[str], dict[str, str]]:
    write_entry("claude", home, project=str(recipe.cwd))
    mcp_json = str(recipe.cwd / ".mcp.json")
    argv = [*recipe.argv, "-p", PROMPT, "--mcp-config", mcp_json, "--strict-mcp-config"]
    return argv, recipe.env | {"ENABLE_TOOL_SEARCH": "false"}


def codex_run(recipe: Recipe, home: Home) -> tuple[list[str], dict[str, str]]:
    write_entry("codex", home, environ=recipe.env)
    argv = [*recipe.argv, "exec", "--skip-git-repo-check", "-c", 'model="double-model"']
    return [*argv, PROMPT], recipe.env


def gemini_run(recipe: Recipe, home: Home) -> tuple[list[str], dict[str, str]]:
    write_entry("gemini", home, project=str(recipe.cwd))
    return [*recipe.argv, "-p", PROMPT], recipe.env


def write_entry(cli: str, home: Home, **where: Any) -> None:
    """What ``cellphone mcp --as Agent-1 --entry CLI --write --trust`` writes."""
    show_entry(cli, home.root, "Agent-1", write=True, trusted=True, program=CELLPHONE, **where)


CLIS = [
    Cli("claude", lambda call: AnthropicDouble(tool_call=call), claude.recipe, claude_run),
    Cli("codex", lambda call: ResponsesDouble(tool_call=call), codex.recipe, codex_run),
    Cli("gemini", lambda call: GeminiDouble(tool_call=call), gemini.recipe, gemini_run),
]


async def stored(home: Home) -> list[HistoryEntry]:
    async with open_runtime(home, load_settings(home), start_desk=False) as rt:
        return await rt.store.history(limit=100)


@contextlib.contextmanager
def warm_host(home: Home, wanted: bool) -> Iterator[list[str]]:
    """The home's warm host while the CLI runs, when ``wanted``; the lines it logged."""
    if not wanted:
        yield []
        return
    env = os.environ | {"CELLPHONE_LOG_LEVEL": "INFO"}
    host = subprocess.Popen(
        [CELLPHONE, "mcp", "--host", "--home", str(home.root)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    logged: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not host_socket(home.var_dir).exists():
            assert time.monotonic() < deadline and host.poll() is None, "the host listens"
            time.sleep(0.05)
        yield logged
    finally:
        host.terminate()
        _, err = host.communicate(timeout=30)
        logged.extend(err.splitlines())


@pytest.mark.parametrize("warm", [False, True], ids=["own-server", "warm-host"])
@pytest.mark.parametrize("cli", CLIS, ids=lambda cli: cli.name)
async def test_a_tool_call_of_the_model_delivers_the_message_once(
    cli: Cli, warm: bool, tmp_path: Path
) -> None:
    """With ``warm``, the server is forked from the home's warm host (``cellphone mcp
    --host``) and serves the streams the CLI's ``cellphone mcp`` handed over."""
    home = make_home(tmp_path / "swarm")
    text = f"The build is green ({cli.name})."
    call = ToolCall("send_message", {"to": ["Agent-2"], "text": text})
    try:
        with warm_host(home, warm) as logged, cli.double(call) as double:
            recipe = cli.recipe(tmp_path, double)
            argv, env = cli.run(recipe, home)
            result = subprocess.run(
                argv,
                cwd=recipe.cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_S,
                stdin=subprocess.DEVNULL,
            )
            results = double.wait_for_tool_results(1, 10)
    finally:
        end_processes(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert double.texts() == [PROMPT]
    assert len(double.calls) == 1, f"calls {double.calls}; tools offered {double.offered}"
    [(call_id, name)] = double.calls
    assert name.endswith("send_message")
    [entry] = await stored(home)  # exactly one message, from the agent the server acts as
    message = entry.message
    assert (message.sender, message.recipients, message.body) == ("Agent-1", ("Agent-2",), text)
    [file] = inbox_files(home, "Agent-2")
    assert parse(file.read_text()).fields["from"] == "Agent-1" and text in file.read_text()
    # the tool's outcome went back to the model, as `cellphone send` prints it
    [back] = results
    assert back.call_id == call_id
    assert f"message {message.id} (agent-to-agent, normal)" in back.text
    assert "Agent-2  delivered via inbox" in back.text
    assert double.answer in result.stdout  # the final text the double gave after the result
    served = [line for line in logged if "serving Agent-1 in process" in line]
    assert len(served) == (1 if warm else 0), logged
