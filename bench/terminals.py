"""Messages into the real agent CLIs through the tmux lane, with no display: per CLI, the
time per message, how many arrived exactly, and how many were claimed delivered and did not.

Run: ``CELLPHONE_TEST_CLIS=$(bash tests/agent_clis/install.sh) .venv/bin/python
bench/terminals.py [--messages 50] [--clis claude,codex,gemini,aider]``.

Each CLI (Claude Code, Codex CLI, Gemini CLI, Aider, at the versions of
``tests/agent_clis/install.sh``) runs in a pane of a tmux server of the bench's own, against
a double of its model API on 127.0.0.1 that records each prompt. Every message goes through
the store and the desk as ``cellphone send`` does (the time is from the service taking it to
its outcome), cycling through a short line, three paragraphs, 6,000 characters, a leading
``/``, a tab, unicode and ``--help``. A message counts as exact when the model API received
exactly the text typed (for Claude Code a tab as four spaces, its own rewrite), once, in
order; a false claim is a message reported delivered that did not arrive so.

The reference, in the same run and the same panes (after the lane's messages), is tmux
alone: load-buffer, paste-buffer and Enter with no reading of the pane and no store, the
least any delivery through tmux costs, and what it gets right without looking. Then each
CLI's own times, the pane read every 1 ms with no store and no desk: paste to the text
showing in its input, and Enter to the input letting go (Gemini CLI with 40 ms, the lane's
wait before Enter and 100 ms; an Enter taken for a new line counts as not exact). Last, a
broadcast to 8 agents (two panes of each CLI) through the store and the desk, wall time
from the service taking it to the last outcome, with when each CLI's deliveries ended and
the median time of their steps; then the same with the model APIs answering
``--answer-delay`` seconds after each prompt, as a model's first token comes, so the CLIs
typed into first are not yet drawing their answers while the others are typed into.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import load_settings
from coordinates.tmux import TmuxTarget
from messaging.model import DeliveryMethod, DeliveryState
from messaging.render import render
from messaging.runtime import open_runtime
from messaging.steps import StepRecords, median_ms
from messaging.tmux.client import TmuxClient
from messaging.tmux.lane import SLOW_ENTER_WAIT_S
from messaging.tmux.reading import read_pane, shows
from tests.agent_clis import aider, claude, codex, gemini
from tests.agent_clis.model_api.anthropic import AnthropicDouble
from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.model_api.chat_completions import ChatCompletionsDouble
from tests.agent_clis.model_api.gemini import GeminiDouble
from tests.agent_clis.model_api.responses import ResponsesDouble
from tests.agent_clis.recipe import Recipe, end_processes
from tests.agent_clis.tmux import TmuxServer, in_tmux
from tests.conftest import make_home

CLIS: dict[str, tuple[str, Callable[[Path, ModelApiDouble], Recipe], type[ModelApiDouble]]] = {
    "claude": ("Claude Code", claude.recipe, AnthropicDouble),
    "codex": ("Codex CLI", codex.recipe, ResponsesDouble),
    "gemini": ("Gemini CLI", gemini.recipe, GeminiDouble),
    "aider": ("Aider", aider.recipe, ChatCompletionsDouble),
}
CASES = (
    "Report your status, please.",
    "First paragraph: the parser.\n\nSecond one, a bit longer.\n\nThird: done.",
    "\n".join(f"{n:03d} the quick brown fox jumps over the lazy dog, twice." for n in range(110)),
    "/not-a-command please answer",
    "before\tafter",
    "ünïcödé ✓ 日本語 — “quotes”",
    "--help",
)
ANSWER_TIMEOUT_S = 30.0
STEPS = ("read", "paste", "shown", "wait", "submit")
STEP_RECORDS = StepRecords()


@dataclass
class Pane:
    cli: str
    double: ModelApiDouble
    target: str
    root: Path


@dataclass
class Row:
    label: str
    case: str
    times: list[float] = field(default_factory=list)
    exact: int = 0
    claimed: int = 0
    false_claims: int = 0
    deliveries: int = 0  # recipients counted in exact and claimed (messages when 0)
    reports: bool = True  # whether anything reports an outcome (the reference does not)
    steps: list[dict[str, float]] = field(default_factory=list)  # of each verified one
    ends: dict[str, list[float]] = field(default_factory=dict)  # by CLI, from the start
    steps_by_cli: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)  # outcomes other than delivered

    def cells(self) -> list[str]:
        ms = sorted(t * 1000 for t in self.times)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))] if ms else float("nan")
        median = statistics.median(ms) if ms else float("nan")
        counted = self.deliveries or len(ms)
        return [
            self.label,
            self.case,
            str(len(ms)),
            f"{median:,.1f}",
            f"{p95:,.1f}",
            f"{self.exact}/{counted}",
            f"{self.claimed}/{counted}" if self.reports else "-",
            str(self.false_claims) if self.reports else "-",
        ]


def start_pane(server: TmuxServer, cli: str, name: str, folder: Path) -> Pane:
    _, make_recipe, double_class = CLIS[cli]
    double = double_class().start()
    folder.mkdir(parents=True)
    recipe = in_tmux(make_recipe(folder, double))
    target = server.window(name, recipe.shell_command())
    server.wait_for(target, recipe.ready, 120)
    return Pane(cli, double, target, folder)


def received(cli: str, text: str) -> str:
    return text.replace("\t", "    ") if cli == "claude" else text


async def through_the_desk(pane: Pane, server: TmuxServer, count: int, work: Path) -> Row:
    home = make_home(
        work / f"home-{pane.cli}",
        {"agents": {"Agent-1": {"tmux": {"target": pane.target, "socket": server.socket}}}},
    )
    row = Row(CLIS[pane.cli][0], "tmux lane, through the store and desk")
    async with open_runtime(home, load_settings(home)) as rt:
        for n in range(count):
            before = len(pane.double.texts())
            STEP_RECORDS.clear()
            start = time.perf_counter()
            sent = await rt.service.send(["Agent-1"], CASES[n % len(CASES)])
            outcome = (await rt.desk.wait_for(sent.message.id, ANSWER_TIMEOUT_S))["Agent-1"]
            row.times.append(time.perf_counter() - start)
            if STEP_RECORDS.taken:
                steps = STEP_RECORDS.taken[-1]
                row.steps.append(steps | {"desk": row.times[-1] - sum(steps.values())})
            text = received(pane.cli, render(sent.message, "Agent-1", rt.settings.messaging.footer))
            claimed = outcome.state is DeliveryState.DELIVERED and (
                outcome.method is DeliveryMethod.TMUX
            )
            arrived = pane.double.wait_for_prompts(before + 1, ANSWER_TIMEOUT_S)[before:]
            exact = arrived == [text]
            row.claimed += claimed
            row.exact += exact
            row.false_claims += claimed and not exact
            if not claimed:
                print(f"  {pane.cli} message {n}: {outcome.summary}", file=sys.stderr)
            # the agent answered and waits again, as between messages
            server.settle(pane.target, timeout=ANSWER_TIMEOUT_S)
    return row


def bare_tmux(pane: Pane, server: TmuxServer, count: int) -> Row:
    row = Row(CLIS[pane.cli][0], "reference: tmux paste + Enter alone", reports=False)
    for n in range(count):
        text = f"reference {n}: " + CASES[n % len(CASES)]
        before = len(pane.double.texts())
        start = time.perf_counter()
        server.tmux("load-buffer", "-b", "ref", "-", stdin=text.encode())
        server.tmux("paste-buffer", "-p", "-d", "-b", "ref", "-t", pane.target)
        server.tmux("send-keys", "-t", pane.target, "Enter")
        row.times.append(time.perf_counter() - start)
        arrived = pane.double.wait_for_prompts(before + 1, 5.0)[before:]
        row.exact += arrived == [received(pane.cli, text)]
        if not arrived:  # the CLI kept it in its input (Gemini CLI: Enter taken for a new line)
            server.tmux("send-keys", "-t", pane.target, "C-c")
        server.settle(pane.target, timeout=ANSWER_TIMEOUT_S)
    return row


@dataclass
class Own:
    """What a CLI takes itself, read every :data:`OWN_READ_S`: paste to its input showing
    the text, and Enter to its input letting go of it, with the wait between them."""

    label: str
    wait_s: float
    shown: list[float] = field(default_factory=list)
    let_go: list[float] = field(default_factory=list)
    exact: int = 0


OWN_READ_S = 0.001


async def own_times(pane: Pane, server: TmuxServer, count: int, wait_s: float) -> Own:
    """``count`` short messages pasted straight through tmux, no store and no desk, the
    pane read every :data:`OWN_READ_S` (the lane's own reading, at its fastest)."""
    target = TmuxTarget(pane.target, server.socket)
    tmux = TmuxClient()
    own = Own(CLIS[pane.cli][0], wait_s)

    async def until(text: str, shown: bool, timeout: float = ANSWER_TIMEOUT_S) -> float | None:
        start = time.perf_counter()
        while shows(read_pane(await tmux.snapshot(target)), text) != shown:
            if time.perf_counter() - start > timeout:
                return None
            await asyncio.sleep(OWN_READ_S)
        return time.perf_counter() - start

    try:
        for n in range(count):
            text = f"Report your status, please ({n})."
            before = len(pane.double.texts())
            await tmux.paste(target, f"own-{n}", text)
            shown = await until(text, shown=True)
            if shown is None:
                raise RuntimeError(f"{pane.cli}: the paste never showed")
            own.shown.append(shown)
            await asyncio.sleep(wait_s)
            await tmux.press(target, "Enter")
            let_go = await until(text, shown=False, timeout=2.0)
            if let_go is not None:  # None: Enter taken for a new line
                own.let_go.append(let_go)
            arrived = pane.double.wait_for_prompts(before + 1, 5.0)[before:]
            own.exact += arrived == [text]
            if not arrived:  # Enter taken for a new line: the text is still in the input
                await tmux.press(target, "C-c")
            server.settle(pane.target, timeout=ANSWER_TIMEOUT_S)
    finally:
        await tmux.close()
    return own


def print_own(owns: list[Own]) -> None:
    print()
    print("Each CLI's own times, read every 1 ms, no store and no desk (median ms):")
    print()
    print("| CLI | wait before Enter | msgs | paste to shown | Enter to let go | exact |")
    print("|---|---:|---:|---:|---:|---:|")
    for own in owns:
        print(
            f"| {own.label} | {own.wait_s * 1000:.0f} ms | {len(own.shown)} | "
            f"{statistics.median(own.shown) * 1000:.1f} | "
            f"{statistics.median(own.let_go or [math.nan]) * 1000:.1f} | "
            f"{own.exact}/{len(own.shown)} |"
        )


async def broadcast(
    panes: list[Pane], server: TmuxServer, rounds: int, work: Path, answer_delay_s: float = 0.0
) -> Row:
    agents = {
        f"Agent-{n}": {"tmux": {"target": pane.target, "socket": server.socket}}
        for n, pane in enumerate(panes, start=1)
    }
    home = make_home(work / f"home-broadcast-{answer_delay_s:g}", {"agents": agents})
    case = "wall time per broadcast"
    if answer_delay_s:
        case += f", answers {answer_delay_s:g} s after the prompt"
    row = Row(f"broadcast to {len(panes)} panes", case)
    for pane in panes:
        pane.double.delay_s = answer_delay_s
    async with open_runtime(home, load_settings(home)) as rt:
        for n in range(rounds):
            counts = [len(pane.double.texts()) for pane in panes]
            STEP_RECORDS.clear()
            started = time.time()
            start = time.perf_counter()
            sent = await rt.service.broadcast(f"Broadcast {n}: report your status.")
            outcomes = await rt.desk.wait_for(sent.message.id, ANSWER_TIMEOUT_S)
            row.times.append(time.perf_counter() - start)
            cli_of = {agent_id: pane.cli for agent_id, pane in zip(agents, panes, strict=True)}
            for (agent_id, ended), steps in zip(STEP_RECORDS.ends, STEP_RECORDS.taken, strict=True):
                row.ends.setdefault(cli_of[agent_id], []).append(ended - started)
                row.steps_by_cli.setdefault(cli_of[agent_id], []).append(steps)
            for agent_id, pane, count in zip(agents, panes, counts, strict=True):
                text = render(sent.message, agent_id, rt.settings.messaging.footer)
                got = pane.double.wait_for_prompts(count + 1, ANSWER_TIMEOUT_S)[count:]
                outcome = outcomes[agent_id]
                row.deliveries += 1
                claimed = outcome.state is DeliveryState.DELIVERED
                if not claimed:
                    row.missed.append(f"{cli_of[agent_id]}: {outcome.summary}")
                row.claimed += claimed
                row.exact += got == [text]
                row.false_claims += claimed and got != [text]
            await asyncio.sleep(answer_delay_s)  # the answers come, then the panes settle
            for pane in panes:
                server.settle(pane.target, timeout=ANSWER_TIMEOUT_S)
    return row


def print_table(rows: list[Row]) -> None:
    header = ["CLI", "what", "msgs", "median ms", "p95 ms", "exact", "reported delivered",
              "false claims"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    print()
    print("Median ms per step of the verified deliveries through the desk ('desk': the store,")
    print("the queue and the outcome, around the lane's steps):")
    print()
    names = [*STEPS, "desk"]
    print("| CLI | verified | " + " | ".join(names) + " |")
    print("|" + "|".join("---" if i < 1 else "---:" for i in range(2 + len(names))) + "|")
    for row in rows:
        if row.steps:
            cells = [f"{median_ms(row.steps, name):,.1f}" for name in names]
            print(f"| {row.label} | {len(row.steps)} | " + " | ".join(cells) + " |")
    for row in rows:
        for missed in row.missed:
            print(f"{row.label}, not delivered: {missed}")
        if row.ends:
            print()
            print(f"{row.label}: when each CLI's deliveries ended, ms after the broadcast (median,")
            print("latest), and the median ms of their steps:")
            print()
            print("| CLI | deliveries | median ms | latest ms | " + " | ".join(STEPS) + " |")
            print("|---|" + "---:|" * (3 + len(STEPS)))
            for cli, ends in row.ends.items():
                taken = row.steps_by_cli.get(cli, [])
                steps = [f"{median_ms(taken, name):,.1f}" for name in STEPS]
                print(f"| {CLIS[cli][0]} | {len(ends)} | {statistics.median(ends) * 1000:,.1f} | "
                      f"{max(ends) * 1000:,.1f} | " + " | ".join(steps) + " |")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--reference", type=int, default=14)
    parser.add_argument("--broadcasts", type=int, default=5)
    parser.add_argument(
        "--own", type=int, default=12, help="messages per CLI timing the CLI alone (0: none)"
    )
    parser.add_argument("--clis", default=",".join(CLIS))
    parser.add_argument(
        "--answer-delay",
        type=float,
        default=1.5,
        help="seconds the model APIs wait before answering, for a second row of broadcasts "
        "(a model's time to its first token; 0: no such row)",
    )
    args = parser.parse_args()
    lane_log = logging.getLogger("messaging.tmux.lane")
    lane_log.setLevel(logging.DEBUG)
    lane_log.addHandler(STEP_RECORDS)
    names = [name for name in args.clis.split(",") if name]
    with tempfile.TemporaryDirectory(prefix="bench-terminals-") as folder:
        work = Path(folder)
        server = TmuxServer(work)
        panes: list[Pane] = []
        try:
            rows: list[Row] = []
            owns: list[Own] = []
            for name in names:
                pane = start_pane(server, name, name, work / name)
                panes.append(pane)
                rows.append(await through_the_desk(pane, server, args.messages, work))
                rows.append(bare_tmux(pane, server, args.reference))
                # Gemini CLI takes an Enter within 40 ms of a paste for a new line
                for wait_s in (0.04, SLOW_ENTER_WAIT_S, 0.1) if name == "gemini" else (0.0,):
                    if args.own:
                        owns.append(await own_times(pane, server, args.own, wait_s))
            if args.broadcasts:
                crowd = [
                    start_pane(server, name, f"{name}-{n}", work / f"{name}-{n}")
                    for n in range(2)
                    for name in CLIS
                ]
                panes += crowd
                rows.append(await broadcast(crowd, server, args.broadcasts, work))
                if args.answer_delay:
                    rows.append(
                        await broadcast(crowd, server, args.broadcasts, work, args.answer_delay)
                    )
            print_table(rows)
            if owns:
                print_own(owns)
        finally:
            server.kill()
            for pane in panes:
                pane.double.stop()
                end_processes(pane.root)


if __name__ == "__main__":
    asyncio.run(main())
