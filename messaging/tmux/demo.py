"""What ``cellphone demo --tmux`` runs: a tmux server of the demo's own with a terminal
chat program per example agent (the line reader of :mod:`messaging.screen.linereader`, which
takes a bracketed paste as one message, as the agent CLIs do), a greeting broadcast through
the tmux lane, and what each pane shows after. No display is needed."""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from agents.home import tmux_example_coordinates
from config import Home, Settings
from coordinates.file import write_atomic
from coordinates.tmux import TmuxTarget
from messaging.model import Outcome
from messaging.runtime import open_runtime

SESSION = "demo"
START_TIMEOUT_S = 10.0
PANE_SIZE = ("100", "12")


class TmuxDemoError(Exception):
    """The demo's tmux server or its panes did not start."""


def tmux_demo_coordinates(home: Home) -> tuple[str, Path]:
    """The example agents in the windows of the demo's session, on a socket in the home."""
    socket = home.var_dir / "demo-tmux.sock"
    return tmux_example_coordinates(SESSION, str(socket)), socket


def run_tmux_demo(home: Home, settings: Settings, greeting: str) -> tuple[dict[str, Outcome], str]:
    """Start the panes, broadcast ``greeting``, stop the panes again. Returns the outcomes
    and the text of each pane after, one after another."""
    document = json.loads(home.coordinates_file.read_text(encoding="utf-8"))
    agents = [a for a, entry in document["agents"].items() if entry.get("active", True)]
    any_agent = document["agents"][agents[0]]["tmux"]
    pane = TmuxTarget(any_agent["target"], any_agent["socket"])
    record = home.var_dir / "demo-received.jsonl"
    try:
        _start(pane, agents, record)
        outcomes = asyncio.run(_broadcast(home, settings, greeting))
        shown = "\n".join(_shown(pane, agent) for agent in agents)
    finally:
        subprocess.run(pane.command("kill-server"), capture_output=True, timeout=10)
    return outcomes, shown


def _start(pane: TmuxTarget, agents: list[str], record: Path) -> None:
    python, record_file = shlex.quote(sys.executable), shlex.quote(str(record))
    reader = f"{python} -m messaging.screen.linereader {record_file}"
    project = Path(__file__).resolve().parents[2]
    for n, agent in enumerate(agents):
        command = f"cd {shlex.quote(str(project))} && exec {reader} {agent}"
        if n == 0:
            where = ["new-session", "-d", "-s", SESSION, "-x", PANE_SIZE[0], "-y", PANE_SIZE[1]]
        else:
            where = ["new-window", "-d", "-t", f"{SESSION}:"]
        done = subprocess.run(
            pane.command(*where, "-n", agent, command), capture_output=True, text=True, timeout=10
        )
        if done.returncode != 0:
            raise TmuxDemoError(f"tmux did not start the demo's panes: {done.stderr.strip()}")
    deadline = time.monotonic() + START_TIMEOUT_S
    while _ready(record) < len(agents):
        if time.monotonic() > deadline:
            raise TmuxDemoError(f"the demo's panes did not start within {START_TIMEOUT_S:g} s")
        time.sleep(0.05)


def _ready(record: Path) -> int:
    try:
        lines = record.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return 0
    return sum(json.loads(line)["kind"] == "ready" for line in lines)


async def _broadcast(home: Home, settings: Settings, greeting: str) -> dict[str, Outcome]:
    async with open_runtime(home, settings) as rt:
        submission = await rt.service.broadcast(greeting)
        return await rt.desk.wait_for(submission.message.id, settings.messaging.wait_timeout_s)


def _shown(pane: TmuxTarget, agent: str) -> str:
    done = subprocess.run(
        pane.command("capture-pane", "-p", "-t", f"{SESSION}:{agent}"),
        capture_output=True,
        text=True,
        timeout=10,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return f"── {agent} ──\n" + "\n".join(lines)


def save_coordinates_for_demo(home: Home) -> Path:
    """Write the demo's coordinates into the home; the tmux socket it names."""
    text, socket = tmux_demo_coordinates(home)
    home.config_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(home.coordinates_file, text)
    return socket
