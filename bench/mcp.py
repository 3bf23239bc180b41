"""``cellphone mcp``: a tool call to a stored message, and the server's start-up, against
references measured in the same run.

Prints two tables. Run: ``.venv/bin/python bench/mcp.py [--calls N] [--starts N]``.

- Tool calls: one session of the MCP SDK's own client with ``cellphone mcp --as Agent-1`` over
  stdio, N ``send_message`` calls to Agent-2, each timed from the call to its result: the
  message stored, delivered to the inbox (no display: every delivery is an inbox file) and
  its outcome back. The references: the server's own send called in this process (no MCP,
  no stdio), and a ``cellphone send`` process per message. Every message is counted in the
  store and in the inbox afterwards.
- Start-up: a fresh ``cellphone mcp`` process, from its start to the answer of the
  ``initialize`` request written to its standard input at once; against ``python -c pass``,
  the MCP SDK imported alone (``import mcp.server.lowlevel``), the smallest server the SDK
  makes (no tools, nothing of cellphone) and a ``cellphone send`` process, taken in turns
  so a busy moment weighs on every row alike; and ``cellphone mcp`` on a home whose warm host
  runs (``cellphone mcp --host``), handed over to a server forked from it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from config import Home, load_settings
from messaging.mcp.tools import AgentTools
from messaging.runtime import open_runtime

VENV_BIN = Path(sys.executable).parent
CELLPHONE = str(VENV_BIN / "cellphone")
TEXT = "Please rebase on main and report your status."
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}
TARGET_P95_MS, TARGET_START_S = 20.0, 0.3
# the smallest server of the SDK: no tools, nothing of cellphone
BARE_SERVER = """
import anyio
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

async def main():
    server = Server("bare")
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(main)
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def environment(pycache: Path) -> dict[str, str]:
    """A user's shell: no display, compiled modules cached as Python does by default."""
    drop = {"DISPLAY", "PYTHONDONTWRITEBYTECODE"}
    env = {name: value for name, value in os.environ.items() if name not in drop}
    return env | {"PYTHONPYCACHEPREFIX": str(pycache)}


def sdk_client() -> Any:
    """The MCP SDK's client module. Run as a script, this file's folder comes first on the
    path and this file's name is the SDK's: the folder is left out before the SDK loads."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    sys.modules.pop("mcp", None)
    import mcp

    return mcp


async def tool_calls(home: Path, calls: int, env: dict[str, str]) -> list[float]:
    mcp = sdk_client()
    server = mcp.StdioServerParameters(
        command=CELLPHONE, args=["mcp", "--home", str(home), "--as", "Agent-1"], env=env
    )
    times = []
    async with (
        mcp.stdio_client(server) as (read, write),
        mcp.ClientSession(read, write) as session,
    ):
        await session.initialize()
        for n in range(calls):
            start = time.perf_counter()
            result = await session.call_tool("send_message", {"to": ["Agent-2"], "text": TEXT})
            times.append(time.perf_counter() - start)
            if result.is_error or "delivered via inbox" not in str(result.content):
                raise RuntimeError(f"call {n} did not deliver: {result.content}")
    return times


async def in_process(home: Path, calls: int) -> list[float]:
    """The same tool without MCP: the server's own code called in this process (the store
    open throughout, a desk of its own per message, as each MCP call runs one)."""
    where = Home(home)
    times = []
    async with open_runtime(where, load_settings(where), start_desk=False) as base:
        tools = AgentTools(base, "Agent-1", lambda: None)
        for _ in range(calls):
            start = time.perf_counter()
            text = await tools.call("send_message", {"to": ["Agent-2"], "text": TEXT})
            times.append(time.perf_counter() - start)
            if "delivered via inbox" not in text:
                raise RuntimeError(f"the send did not deliver: {text}")
    return times


def send_process(home: Path, env: dict[str, str]) -> float:
    argv = [CELLPHONE, "send", TEXT, "--to", "Agent-2", "--from", "Agent-1", "--home", str(home)]
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def server_start(argv: list[str], env: dict[str, str]) -> float:
    """From the process's start to the line answering ``initialize``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
    process.stdin.flush()
    answer = json.loads(process.stdout.readline())
    elapsed = time.perf_counter() - start
    process.stdin.close()
    process.wait(30)
    if "result" not in answer:
        raise RuntimeError(f"initialize was not answered: {answer}")
    return elapsed


def process_time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


async def count(home: Path) -> int:
    where = Home(home)
    async with open_runtime(where, load_settings(where), start_desk=False) as rt:
        return len(await rt.store.history(limit=1000))


def row(table: Table, name: str, values: list[float], reference: float, target: str) -> None:
    median = statistics.median(values)
    table.add_row(
        name,
        str(len(values)),
        f"{median * 1000:.1f} ms",
        f"{percentile(values, 0.95) * 1000:.1f} ms",
        f"{median / reference:.2f}x",
        target,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--sends", type=int, default=20)
    parser.add_argument("--starts", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as tmp:
        env = environment(Path(tmp) / "pycache")
        home = Path(tmp) / "swarm"
        init = [CELLPHONE, "init", "--home", str(home)]
        subprocess.run(init, env=env, check=True, stdout=subprocess.DEVNULL)
        serve = [CELLPHONE, "mcp", "--home", str(home), "--as", "Agent-1"]
        bare = [sys.executable, "-c", BARE_SERVER]
        server_start(serve, env)  # compile and cache the modules once
        server_start(bare, env)
        calls = asyncio.run(tool_calls(home, args.calls, env))
        service = asyncio.run(in_process(home, args.calls))
        sends = [send_process(home, env) for _ in range(args.sends)]
        messages = asyncio.run(count(home))
        inbox = len(list((home / "agent_workspaces" / "Agent-2" / "inbox").glob("*.md")))
        starts: dict[str, list[float]] = {
            "python -c pass": [],
            "import mcp.server.lowlevel (the SDK alone)": [],
            "cellphone send (inbox)": [],
            "bare SDK server: start to initialize answered": [],
            "cellphone mcp: start to initialize answered": [],
            "cellphone mcp handed to the home's warm host": [],
        }
        warm_home = Path(tmp) / "warm"
        subprocess.run(
            [CELLPHONE, "init", "--home", str(warm_home)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        warm = [CELLPHONE, "mcp", "--home", str(warm_home), "--as", "Agent-1"]
        host = subprocess.Popen(
            [CELLPHONE, "mcp", "--host", "--home", str(warm_home)],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not (warm_home / "var" / "mcp-host.sock").exists():
            if time.monotonic() > deadline or host.poll() is not None:
                raise RuntimeError("the warm host did not start listening within 60 s")
            time.sleep(0.05)
        server_start(warm, env)
        sdk = [sys.executable, "-c", "import mcp.server.lowlevel, mcp.server.stdio"]
        for _ in range(args.starts):
            starts["python -c pass"].append(process_time([sys.executable, "-c", "pass"], env))
            starts["import mcp.server.lowlevel (the SDK alone)"].append(process_time(sdk, env))
            starts["cellphone send (inbox)"].append(send_process(home, env))
            starts["bare SDK server: start to initialize answered"].append(server_start(bare, env))
            starts["cellphone mcp: start to initialize answered"].append(server_start(serve, env))
            starts["cellphone mcp handed to the home's warm host"].append(server_start(warm, env))
        host.terminate()
        host.wait(30)
    console = Console()
    table = Table(title="send_message: tool call to stored and delivered message")
    for column in ("path", "calls", "median", "p95", "ratio", "target"):
        table.add_column(column, justify="left" if column == "path" else "right")
    reference = statistics.median(service)
    row(
        table,
        "MCP tool call over stdio (SDK client)",
        calls,
        reference,
        f"p95 <= {TARGET_P95_MS:g} ms",
    )
    row(table, "reference: the same tool in process, no MCP", service, reference, "")
    row(table, "reference: a cellphone send process", sends, reference, "")
    console.print(table)
    sent = len(calls) + len(service) + len(sends)
    console.print(f"messages sent: {sent}; stored: {messages}; inbox files of Agent-2: {inbox}")
    table = Table(title=f"start-up, wall time of a fresh process ({args.starts} runs each)")
    for column in ("process", "runs", "median", "p95", "ratio", "target"):
        table.add_column(column, justify="left" if column == "process" else "right")
    reference = statistics.median(starts["python -c pass"])
    for name, values in starts.items():
        target = f"<= {TARGET_START_S:g} s" if name.startswith("cellphone mcp") else ""
        row(table, name, values, reference, target)
    console.print(table)
    console.print(
        f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
