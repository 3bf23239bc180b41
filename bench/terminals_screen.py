"""Benchmark of screen delivery into the real agent CLIs in real terminals (needs root, the
test command's Debian packages, xterm, and the CLIs of tests/agent_clis/install.sh).

On a virtual three-monitor display under openbox, Claude Code, Codex CLI, Gemini CLI and
Aider run in xfce4-terminal (pasting with Ctrl+Shift+V) and in xterm (Shift+Insert, the
primary selection), each against a double of its model API, with the coordinates the tests
use (Gemini CLI with ``submit_after_s`` 0.1, Aider with ``wait_for_prompt``) and the
settings the tests use (``gui.draft_retry_s`` 0.5: a message held while Aider answers is
tried again this often; ``gui.verify_timeout_s`` 4). For each CLI and terminal:

- ``desk``: messages sent one after another through one store and desk (as the bot or
  ``cellphone deliver --watch`` does), timed from the send to the outcome; each goes once
  the one before reached the model and the CLI's window has been still for 0.3 s (it
  answered and waits again, as between an operator's messages; ``bench/terminals.py``
  waits so in tmux);
- ``cellphone send``: each message a ``cellphone send`` process of its own, wall time;
- ``no submit_after_s`` (Gemini CLI only): the same without the wait between paste and
  Enter: what the screen tells when Enter is taken as a new line.

Last, xfce4-terminal as installed (it asks to confirm a paste holding line breaks) running
a line reader. Each row counts what the model received exactly, what was reported
delivered, and false claims: reported delivered without an exact copy at the model.

    export CELLPHONE_TEST_CLIS=$(bash tests/agent_clis/install.sh)
    python bench/terminals_screen.py [--messages 12] [--sends 6] [--clis codex,gemini]
        [--terminals xterm]

Prints a table; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import load_settings
from coordinates.virtual_display import THREE_MONITORS, VirtualDisplay
from messaging.model import DeliveryState, Message
from messaging.render import render
from messaging.runtime import open_runtime
from messaging.screen.apps import TerminalPane, TerminalPanes, WindowManager
from messaging.screen.gui import GuiDeliverer
from messaging.steps import StepRecords, median_ms
from tests.agent_clis.model_api.base import ModelApiDouble
from tests.conftest import make_home
from tests.gui.test_terminal_clis import (
    BODIES,
    CLIS,
    PASTE_KEYS,
    VERIFY_TIMEOUT_S,
    Agents,
    Cli,
    agent_of,
    start_agents,
)

log = logging.getLogger("bench")
STEPS = ("look", "click", "settle", "paste", "shown", "submit", "restore")


STEP_RECORDS = StepRecords()
CELLPHONE = Path(sys.executable).with_name("cellphone")
ARRIVAL_S = 20.0
# between messages, the CLI answers and draws its prompt again (its window still this long),
# as it does between an operator's messages and as bench/terminals.py waits in tmux
IDLE_STILL_S = 0.3
IDLE_TIMEOUT_S = 10.0
DIALOG_SETTING = "MiscShowUnsafePasteDialog=FALSE"
DRAFT_RETRY_S = 0.5


@dataclass
class Row:
    terminal: str
    cli: str
    path: str
    times: list[float] = field(default_factory=list)
    exact: int = 0
    delivered: int = 0
    false_claims: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    steps: list[dict[str, float]] = field(default_factory=list)  # of each verified delivery

    def cells(self) -> list[str]:
        ordered = sorted(self.times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        sent = len(self.times)
        return [
            self.terminal,
            self.cli,
            self.path,
            str(sent),
            f"{statistics.median(self.times) * 1000:,.1f}",
            f"{p95 * 1000:,.1f}",
            f"{self.exact}/{sent}",
            f"{self.delivered}/{sent}",
            str(self.false_claims),
            ", ".join(f"{n} {why}" for why, n in self.refused.items()) or "-",
        ]


def body_of(index: int) -> str:
    return f"[{index}] " + BODIES[index % len(BODIES)]


def expected(cli: Cli, text: str) -> str:
    return text.replace("\t", "    ") if cli.name == "claude" else text


def score(row: Row, cli: Cli, sent: list[tuple[str, bool, str | None]], got: list[str]) -> None:
    """``sent``: (typed text, reported delivered, reason otherwise)."""
    left = Counter(got)
    for text, delivered, reason in sent:
        arrived = left[expected(cli, text)] > 0
        if arrived:
            left[expected(cli, text)] -= 1
            row.exact += 1
        if delivered:
            row.delivered += 1
            row.false_claims += not arrived
        else:
            row.refused[(reason or "?")[:48]] += 1


def typed(home_settings_footer: str, agent_id: str, body: str) -> str:
    return render(Message("Captain", (agent_id,), body), agent_id, home_settings_footer)


async def through_desk(
    agents: Agents, cli: Cli, work: Path, count: int, *, submit_after_s: float | None = None
) -> Row:
    agent_id = agent_of(cli, agents.terminal)
    coordinates = agents.coordinates()
    if submit_after_s is not None:
        coordinates[agent_id]["submit_after_s"] = submit_after_s
    home = make_home(work / f"desk-{agent_id}-{submit_after_s}", {"agents": coordinates})
    settings = load_settings(home)
    double = agents.doubles[agent_id]
    path = "desk" if submit_after_s is None else f"submit_after_s {submit_after_s:g}"
    row, sent = Row(agents.terminal, cli.name, path), []
    already = len(double.texts())
    screen = GuiDeliverer(settings.gui)
    async with open_runtime(home, settings, screen) as runtime:
        for index in range(count):
            STEP_RECORDS.taken.clear()
            started = time.perf_counter()
            submission = await runtime.service.send([agent_id], body_of(index))
            outcome = (await runtime.desk.wait_for(submission.message.id, 60))[agent_id]
            row.times.append(time.perf_counter() - started)
            if STEP_RECORDS.taken:
                steps = STEP_RECORDS.taken[-1]
                row.steps.append(steps | {"desk": row.times[-1] - sum(steps.values())})
            text = render(submission.message, agent_id, settings.messaging.footer)
            delivered = outcome.state is DeliveryState.DELIVERED
            sent.append((text, delivered, outcome.reason))
            log.info("%s #%d: %s %s", agent_id, index, outcome.state.value, outcome.reason or "")
            if delivered:  # the next goes once the CLI answered and waits again
                double.wait_for_prompts(already + sum(1 for s in sent if s[1]), ARRIVAL_S)
                agents.panes.wait_still(agent_id, IDLE_STILL_S, IDLE_TIMEOUT_S)
    screen.close()
    time.sleep(1.0)  # a late arrival of something held in an input
    score(row, cli, sent, double.texts()[already:])
    return row


def with_cellphone_send(agents: Agents, cli: Cli, work: Path, count: int, display: str) -> Row:
    agent_id = agent_of(cli, agents.terminal)
    home = make_home(work / f"send-{agent_id}", {"agents": agents.coordinates()})
    footer = load_settings(home).messaging.footer
    double = agents.doubles[agent_id]
    row, sent = Row(agents.terminal, cli.name, "cellphone send"), []
    already = len(double.texts())
    env = {**os.environ, "DISPLAY": display}
    for index in range(count):
        body = body_of(index)
        started = time.perf_counter()
        done = subprocess.run(
            [str(CELLPHONE), "send", "--home", str(home.root), "-t", agent_id, "--json", body],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        row.times.append(time.perf_counter() - started)
        outcome = json.loads(done.stdout)["outcomes"][0] if done.returncode in (0, 1) else {}
        delivered = outcome.get("state") == "delivered" and outcome.get("method") == "gui"
        sent.append((typed(footer, agent_id, body), delivered, outcome.get("reason")))
        if delivered:
            double.wait_for_prompts(already + sum(1 for s in sent if s[1]), ARRIVAL_S)
            agents.panes.wait_still(agent_id, IDLE_STILL_S, IDLE_TIMEOUT_S)
    time.sleep(1.0)
    score(row, cli, sent, double.texts()[already:])
    return row


async def asking_terminal(display: str, work: Path, count: int) -> Row:
    """xfce4-terminal as installed, asking before it pastes line breaks."""
    pane = TerminalPane("Asks", 640, 700, columns=72, rows=14, paste_dialog=True)
    row = Row("xfce4-terminal, paste dialog on", "line reader", "desk")
    with TerminalPanes([pane], display, work / "asks") as asking:
        entry = {
            "chat_input_coordinates": list(asking.pane_points()["Asks"]),
            "active": True,
            "paste_keys": "ctrl+shift+v",
            "verify_region": [600, 40],
        }
        home = make_home(work / "asks-home", {"agents": {"Asks": entry}})
        settings = load_settings(home)
        screen = GuiDeliverer(settings.gui)
        sent = []
        async with open_runtime(home, settings, screen) as runtime:
            for index in range(count):
                started = time.perf_counter()
                submission = await runtime.service.send(["Asks"], body_of(index))
                outcome = (await runtime.desk.wait_for(submission.message.id, 60))["Asks"]
                row.times.append(time.perf_counter() - started)
                text = render(submission.message, "Asks", settings.messaging.footer)
                delivered = outcome.state is DeliveryState.DELIVERED
                why = outcome.reason or ""
                named = "names the setting" if DIALOG_SETTING in why else why[:48]
                sent.append((text, delivered, named))
        screen.close()
        time.sleep(0.5)
        got = [r.text for r in asking.received()]
    left = Counter(got)
    for text, delivered, why in sent:
        arrived = left[text] > 0
        row.exact += arrived
        row.delivered += delivered
        row.false_claims += delivered and not arrived
        if not delivered:
            row.refused[why] += 1
    return row


def doubles_stop(doubles: dict[str, ModelApiDouble]) -> None:
    for double in doubles.values():
        double.stop()


async def run(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-terminals-") as tmp:
        work = Path(tmp)
        with VirtualDisplay(THREE_MONITORS) as display, WindowManager(display.name):
            os.environ["DISPLAY"] = display.name
            for terminal in args.terminals:
                # a short folder: a CLI's status line showing a long one wraps, moving its input
                root = Path(tempfile.mkdtemp(prefix="cli-", dir="/tmp"))
                panes, doubles = start_agents(terminal, display.name, root)
                agents = Agents(terminal, panes, doubles)
                try:
                    for cli in CLIS:
                        if cli.name not in args.clis:
                            continue
                        add(rows, await through_desk(agents, cli, work, args.messages))
                        if args.sends:
                            add(
                                rows,
                                with_cellphone_send(agents, cli, work, args.sends, display.name),
                            )
                    if "gemini" in args.clis and args.sends:
                        gemini = next(cli for cli in CLIS if cli.name == "gemini")
                        add(
                            rows,
                            await through_desk(
                                agents, gemini, work, args.sends, submit_after_s=0.0
                            ),
                        )
                finally:
                    panes.stop()
                    doubles_stop(doubles)
                    shutil.rmtree(root, ignore_errors=True)
            if "xfce4-terminal" in args.terminals and args.sends:
                add(rows, await asking_terminal(display.name, work, args.sends))
    return rows


def add(rows: list[Row], row: Row) -> None:
    """Keep ``row``, and show it at once (a run takes minutes)."""
    rows.append(row)
    print("| " + " | ".join(row.cells()) + " |", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=12, help="per CLI, through the desk")
    parser.add_argument("--sends", type=int, default=6, help="per CLI, cellphone send runs")
    parser.add_argument(
        "--clis", default=",".join(cli.name for cli in CLIS), help="which CLIs, comma separated"
    )
    parser.add_argument(
        "--terminals", default="xfce4-terminal,xterm", help="which terminals, comma separated"
    )
    parser.add_argument("--log", type=Path, help="the desk's log (debug level) to this file")
    args = parser.parse_args()
    if args.log:
        logging.basicConfig(
            filename=args.log, level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s"
        )
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
    gui_log = logging.getLogger("messaging.screen.gui")
    gui_log.setLevel(logging.DEBUG)
    gui_log.addHandler(STEP_RECORDS)
    args.clis = args.clis.split(",")
    args.terminals = args.terminals.split(",")
    known = {cli.name for cli in CLIS}
    for name in args.clis:
        if name not in known:
            parser.error(f"--clis: {name!r} is none of {', '.join(sorted(known))}")
    for name in args.terminals:
        if name not in PASTE_KEYS:
            parser.error(f"--terminals: {name!r} is none of {', '.join(PASTE_KEYS)}")
    os.environ["CELLPHONE_GUI__DRAFT_RETRY_S"] = str(DRAFT_RETRY_S)
    os.environ["CELLPHONE_GUI__VERIFY_TIMEOUT_S"] = str(VERIFY_TIMEOUT_S)
    rows = asyncio.run(run(args))
    header = ["terminal", "CLI", "path", "msgs", "median ms", "p95 ms", "exact",
              "reported delivered", "false claims", "not delivered"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    print()
    print("Median ms per step of the verified deliveries through the desk ('desk': the store,")
    print("the queue and the outcome, around the screen's steps):")
    print()
    names = [*STEPS, "desk"]
    print("| terminal | CLI | path | verified | " + " | ".join(names) + " |")
    print("|" + "|".join("---" for _ in range(4 + len(names))) + "|")
    for row in rows:
        if row.steps:
            cells = [f"{median_ms(row.steps, name):,.1f}" for name in names]
            print(f"| {row.terminal} | {row.cli} | {row.path} | {len(row.steps)} | "
                  + " | ".join(cells) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
