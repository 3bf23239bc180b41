"""Benchmark of screen delivery into real chat apps on a virtual three-monitor X display
under openbox (needs root and the test command's Debian packages: Xorg with the dummy
driver, openbox, chromium, xfce4-terminal, xdotool, xclip).

The GUI deliverer with default settings types into Chromium chat pages (a textarea, a
contenteditable rich input, and a page that ignores Enter like a busy agent) and into an
xfce4-terminal running a line reader; a broadcast to 8 Chromium panes goes through the
store and the desk. A reference profile with the sleeps of the V2 code this replaces types
into the same Chromium panes in the same run.

    python bench/delivery.py [--runs 34] [--terminal-runs 17] [--broadcasts 5] [--skip-v2]
    python bench/delivery.py --quick    # a few messages of each kind, about a minute

Prints tables of time per message and of what arrived; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import screen_sharing

from agents import Agent
from agents.home import prepare_home
from config import GuiSettings, Home, load_settings
from coordinates import Point, Typing
from coordinates.virtual_display import THREE_MONITORS, VirtualDisplay
from messaging.deliver import Job, NotDeliverable
from messaging.model import HELD, DeliveryState, Message, MessageType
from messaging.render import render
from messaging.runtime import open_runtime
from messaging.screen import x11 as x11_module
from messaging.screen.apps import (
    ChromiumPane,
    ChromiumPanes,
    TerminalPane,
    TerminalPanes,
    WindowManager,
)
from messaging.screen.gui import GuiDeliverer
from messaging.screen.standin import Received
from messaging.screen.x11 import X11
from messaging.steps import StepRecords, median_ms, step_names

SIZES = (200, 2_000, 10_000)
NOT_SUBMITTED = "typed but not submitted"
V2_BETWEEN_RECIPIENTS_S = 1.0
ARRIVAL_TIMEOUT_S = 30.0
BROADCAST_TIMEOUT_S = 120.0
LATE_ARRIVALS_S = 0.5  # how long to keep watching for a text nobody reported delivering

# Monitors (THREE_MONITORS): DUMMY0 1920x1080+0+1024, DUMMY1 1920x1080+1920+1024,
# DUMMY2 1280x1024+0+0. Four 900x480 panes on each 1920x1080 monitor, in a 2x2 grid of
# 960x540 cells; the rich page, the busy page and the terminal on the 1280x1024 one.
CELL_W, CELL_H, PANE_W, PANE_H = 960, 540, 900, 480
INPUT_Y_IN_CELL = 425  # the input's middle: client top (30) + height - the page's 85 px
GRID_MONITORS = ((0, 1024), (1920, 1024))
RICH = ChromiumPane("Rich", 320, 365, width=600, height=420, kind="contenteditable")
BUSY = ChromiumPane("Busy", 960, 365, width=600, height=420, kind="ignores-enter")
TERMINAL = TerminalPane("Term", 640, 850, columns=100, rows=14)
# The prompt line and the row above it: a region of the prompt line alone (600x20) missed
# the text whose last row ends left of it, and the paste was reported as not showing.
TERMINAL_TYPING = Typing(
    paste_keys=("ctrl", "shift", "v"), submit_keys=("enter",), verify_region=(600, 40)
)


def grid_panes() -> list[ChromiumPane]:
    """Agent-1..Agent-8, textarea pages, four per 1920x1080 monitor without overlap."""
    return [
        ChromiumPane(
            f"Agent-{index * 4 + row * 2 + col + 1}",
            mx + col * CELL_W + CELL_W // 2,
            my + row * CELL_H + INPUT_Y_IN_CELL,
            width=PANE_W,
            height=PANE_H,
        )
        for index, (mx, my) in enumerate(GRID_MONITORS)
        for row in range(2)
        for col in range(2)
    ]


def text_of(length: int, seed: int) -> str:
    line = f"[{seed}] Grüße ✓ 🚀 naïve façade — ½ ∑ 世界 "
    body = (line * (length // len(line) + 1))[: length - 1]
    return body[: length // 2] + "\n" + body[length // 2 :]


# -- what one row counts ---------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One message typed, and what the deliverer said about it."""

    agent_id: str
    text: str
    delivered: bool = True
    verified: bool | None = None  # None: the profile cannot tell
    reason: str | None = None  # why it was not reported delivered


@dataclass
class Row:
    target: str
    case: str
    times: list[float] = field(default_factory=list)  # per message, or per broadcast
    sent: int = 0
    exact: int = 0
    verified: int | None = 0  # None: the profile cannot tell
    delivered: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # reasons, shortened
    notes: Counter[str] = field(default_factory=Counter)  # what was not exact and verified
    # pastes by whether quiet requestors were woken ("woken", "not woken"), and how many of
    # them showed over LATE_PASTE_S after the paste keys
    pastes: Counter[str] = field(default_factory=Counter)
    late: Counter[str] = field(default_factory=Counter)
    kinds: list[str] = field(default_factory=list)  # of each broadcast, beside its time
    steps: list[dict[str, float]] = field(default_factory=list)  # seconds, of each paste

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    def cells(self) -> list[str]:
        ordered = sorted(self.times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return [
            self.target,
            self.case,
            str(self.sent),
            f"{self.median_ms:,.1f}",
            f"{p95 * 1000:,.1f}",
            f"{self.exact}/{self.sent}",
            "-" if self.verified is None else f"{self.verified}/{self.sent}",
            f"{self.delivered}/{self.sent}",
            ", ".join(f"{n} {reason}" for reason, n in self.refused.items()) or "-",
        ]


class Apps(Protocol):
    def received(self) -> list[Received]: ...
    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]: ...
    def clear(self) -> None: ...


def arrivals(apps: Apps, count: int) -> list[Received]:
    """What the apps recorded once ``count`` texts are in (or the timeout ran out), plus
    whatever else arrives shortly after."""
    with contextlib.suppress(TimeoutError):
        apps.wait_for(count, timeout=ARRIVAL_TIMEOUT_S)
    time.sleep(LATE_ARRIVALS_S)
    return [r for r in apps.received() if r.kind == "message"]


def score(row: Row, sent: list[Sent], got: list[Received]) -> None:
    """Count what was sent, reported and recorded exactly; note every message that was not
    both exact and verified, and every recorded text that nobody sent."""
    left = Counter((r.agent_id, r.text) for r in got)
    for message in sent:
        row.sent += 1
        recorded = left[(message.agent_id, message.text)] > 0
        if recorded:
            left[(message.agent_id, message.text)] -= 1
            row.exact += 1
        if message.verified is not None:
            row.verified = (row.verified or 0) + message.verified
        if message.delivered:
            row.delivered += 1
            if not recorded:
                row.notes["reported delivered, but no exact copy recorded"] += 1
            if message.verified is False:
                row.notes["reported delivered, unverified"] += 1
        else:
            assert message.reason is not None
            row.refused[short(message.reason)] += 1
            got_it = "yet its text was recorded exactly" if recorded else "nothing recorded"
            row.notes[f"not reported delivered ({got_it}): {message.reason}"] += 1
    for (agent_id, text), n in left.items():
        if n > 0:
            row.notes[f"{agent_id} recorded a text nobody sent: {text[:60]!r}"] += n


def short(reason: str) -> str:
    return reason.split(":")[0] if reason.startswith(NOT_SUBMITTED) else reason[:60]


# -- per message through the deliverer -------------------------------------------------


def per_message(
    target: str,
    deliverer: GuiDeliverer,
    agents: list[Agent],
    apps: Apps,
    runs: int,
    sizes: tuple[int, ...] = SIZES,
) -> list[Row]:
    """``runs`` messages per size, back to back: the first part into the first agent's
    pane, the next part into the next one's."""
    rows = []
    for size in sizes:
        row = Row(target, f"{size:,} chars")
        apps.clear()
        sent: list[Sent] = []
        for run in range(runs):
            agent = agents[run * len(agents) // runs]
            text = text_of(size, run)
            started = time.perf_counter()
            sent.append(deliver(deliverer, agent, text))
            row.times.append(time.perf_counter() - started)
        score(row, sent, arrivals(apps, sum(s.delivered for s in sent)))
        rows.append(row)
    return rows


def deliver(deliverer: GuiDeliverer, agent: Agent, text: str) -> Sent:
    job = Job(Message("Captain", (agent.agent_id,), text), agent, text)
    try:
        typed = deliverer.deliver_now(job)
    except NotDeliverable as exc:
        return Sent(agent.agent_id, text, delivered=False, verified=False, reason=exc.reason)
    return Sent(agent.agent_id, text, verified=typed.verified)


# -- broadcast through the whole stack -------------------------------------------------


def broadcast_home(work: Path, points: dict[str, tuple[int, int]]) -> Home:
    """A home whose eight agents' chat points are where the panes' inputs really are."""
    home = Home(work / "home")
    agents = {
        agent_id: {"chat_input_coordinates": list(point), "description": "", "active": True}
        for agent_id, point in points.items()
    }
    prepare_home(home, json.dumps({"agents": agents}, indent=2) + "\n")
    return home


LATE_PASTE_S = 0.15  # a paste showing later than this after its keys is counted late


async def broadcast(home: Home, pages: ChromiumPanes, runs: int, wake_turns: bool = False) -> Row:
    """``runs`` broadcasts of 200 characters to the eight agents of ``home``, through the
    service, the store and the desk; the wall time of each until every outcome is in, and
    how many pastes showed late. With ``wake_turns``, every other broadcast runs without
    waking quiet clipboard requestors (``x11.WAKE_AFTER_S``), for a reference in the same
    run."""
    settings = load_settings(home).replaced(gui=GuiSettings())
    row = Row("broadcast to 8 Chromium panes", "200 chars, wall time")
    records = StepRecords()
    screen_log = logging.getLogger("messaging.screen.gui")
    screen_log.setLevel(logging.DEBUG)
    screen_log.addHandler(records)
    wake_after = x11_module.WAKE_AFTER_S
    screen = GuiDeliverer(settings.gui)
    # the keys typed just before are not this desk's own: let them age past the wait for
    # the operator's hands, as after an operator's last keystroke
    await asyncio.sleep(settings.gui.operator_idle_s)
    try:
        async with open_runtime(home, settings, screen) as rt:
            for run in range(runs):
                pages.clear()
                woken = not (wake_turns and run % 2)
                x11_module.WAKE_AFTER_S = wake_after if woken else float("inf")
                records.clear()
                started = time.perf_counter()
                submission = await rt.service.broadcast(text_of(200, run))
                outcomes = await rt.desk.wait_for(submission.message.id, BROADCAST_TIMEOUT_S)
                row.times.append(time.perf_counter() - started)
                kind = "woken" if woken else "not woken"
                row.kinds.append(kind)
                row.steps += records.taken
                for steps in records.taken:
                    row.pastes[kind] += 1
                    shown = steps.get("paste", 0.0) + steps.get("shown", 0.0)
                    row.late[kind] += shown > LATE_PASTE_S
                message, footer = submission.message, settings.messaging.footer
                sent = [
                    Sent(
                        agent_id,
                        render(message, agent_id, footer),
                        delivered=outcome.state is DeliveryState.DELIVERED,
                        verified=bool(outcome.verified),
                        reason=None
                        if outcome.state is DeliveryState.DELIVERED
                        else outcome.summary,
                    )
                    for agent_id, outcome in outcomes.items()
                ]
                score(row, sent, arrivals(pages, len(sent)))
    finally:
        x11_module.WAKE_AFTER_S = wake_after
        screen_log.removeHandler(records)
        screen.close()
    return row


async def beside_holds(home: Home, pages: ChromiumPanes, display: str, runs: int) -> Row:
    """A message to a free pane while 20 deliveries to another are held by the operator's
    draft in its input: the time from the service taking it to its outcome, through the
    desk that holds the others (they are tried again every ``gui.draft_retry_s``)."""
    settings = load_settings(home).replaced(gui=GuiSettings())
    row = Row("to a free pane, 20 held for another", "200 chars")
    held_pane, free_pane = "Agent-8", "Agent-1"
    x, y = pages.pane_points()[held_pane]
    pages.clear()
    screen_sharing.operator(display, "mousemove", str(x), str(y), "click", "1")
    screen_sharing.operator(display, "type", "--delay", "5", "the operator's draft")
    pages.wait_for_draft(held_pane, "the operator's draft")
    await asyncio.sleep(settings.gui.operator_idle_s)  # their hands left the keyboard
    screen = GuiDeliverer(settings.gui)
    try:
        async with open_runtime(home, settings, screen) as rt:
            held = [(await rt.service.send([held_pane], f"held {n}")).message.id for n in range(20)]
            for message_id in held:
                outcome = (await rt.desk.wait_for(message_id, BROADCAST_TIMEOUT_S))[held_pane]
                if not outcome.reason or not outcome.reason.startswith(HELD):
                    raise RuntimeError(f"a delivery to the pane with a draft: {outcome.summary}")
            for run in range(runs):
                text = text_of(200, 2000 + run)
                started = time.perf_counter()
                submission = await rt.service.send([free_pane], text)
                outcome = (await rt.desk.wait_for(submission.message.id, BROADCAST_TIMEOUT_S))[
                    free_pane
                ]
                row.times.append(time.perf_counter() - started)
                sent = Sent(
                    free_pane,
                    render(submission.message, free_pane, settings.messaging.footer),
                    delivered=outcome.state is DeliveryState.DELIVERED,
                    verified=bool(outcome.verified),
                    reason=None if outcome.state is DeliveryState.DELIVERED else outcome.summary,
                )
                got = [r for r in arrivals(pages, run + 1) if r.agent_id == free_pane]
                score(row, [sent], got[run:])
            if pages.draft(held_pane) != "the operator's draft":
                raise RuntimeError(f"the draft was changed: {pages.draft(held_pane)!r}")
    finally:
        screen.close()
        # the operator deletes the draft (the held messages stay queued in this home)
        screen_sharing.operator(display, "mousemove", str(x), str(y), "click", "1")
        screen_sharing.operator(display, "key", "ctrl+a", "BackSpace")
    return row


def fresh_processes(home: Home, pages: ChromiumPanes, runs: int) -> list[Row]:
    """``cellphone send`` to one pane and ``cellphone broadcast`` to the eight, each a fresh
    process as the operator runs it (start-up, store, desk, typing and verification): the
    wall time of the process, and what it reported against what the pages recorded."""
    command = [str(Path(sys.executable).parent / "cellphone")]
    rows = {
        "send": Row("fresh `cellphone send` process", "1 pane, 200 chars, wall time"),
        "broadcast": Row("fresh `cellphone broadcast` process", "8 panes, 200 chars, wall time"),
    }
    settings = load_settings(home)
    messaging = settings.messaging
    kinds = {"send": MessageType.OPERATOR, "broadcast": MessageType.BROADCAST}
    for run in range(runs):
        for verb, row in rows.items():
            pages.clear()
            text = text_of(200, 1000 + run)
            to = ["--to", "Agent-1"] if verb == "send" else []
            # the keys the run before typed are not this process's own: let them age past
            # the wait for the operator's hands, as a person's next command would
            time.sleep(settings.gui.operator_idle_s)
            started = time.perf_counter()
            done = subprocess.run(
                [*command, verb, "--home", str(home.root), "--json", *to, text],
                capture_output=True,
                text=True,
                timeout=BROADCAST_TIMEOUT_S,
            )
            row.times.append(time.perf_counter() - started)
            if done.returncode not in (0, 1):
                raise RuntimeError(f"cellphone {verb} failed: {done.stderr.strip()[-500:]}")
            report = json.loads(done.stdout)
            message = Message(messaging.operator_name, (), text, kinds[verb])
            sent = [
                Sent(
                    o["agent"],
                    render(message, o["agent"], messaging.footer),
                    delivered=o["state"] == "delivered" and o["method"] == "gui",
                    verified=bool(o["verified"]),
                    reason=o["reason"] or (None if o["method"] == "gui" else o["method"]),
                )
                for o in report["outcomes"]
            ]
            score(row, sent, arrivals(pages, len(sent)))
    return list(rows.values())


# -- the V2 reference profile -----------------------------------------------------------


class V2Profile:
    """The V2 sequence with its own sleeps: a 0.5 s mouse move, 0.5 s after the click,
    0.1-0.2 s between select-all, delete, copy, paste and Enter, pyautogui's default 0.1 s
    pause after each of its six calls, and 1 s between recipients."""

    def __init__(self) -> None:
        # pyautogui connects to the display when imported: only once DISPLAY is set
        import pyautogui
        import pyperclip

        self.gui, self.clip = pyautogui, pyperclip

    def deliver(self, agent: Agent, text: str) -> None:
        gui, saved = self.gui, self.gui.PAUSE
        gui.PAUSE = 0.1
        try:
            assert agent.chat_point is not None
            gui.moveTo(*agent.chat_point, duration=0.5)
            gui.click()
            time.sleep(0.5)
            gui.hotkey("ctrl", "a")
            time.sleep(0.1)
            gui.press("delete")
            time.sleep(0.1)
            self.clip.copy(text)
            time.sleep(0.1)
            gui.hotkey("ctrl", "v")
            time.sleep(0.2)
            gui.press("enter")
        finally:
            gui.PAUSE = saved

    def per_message(self, agent: Agent, pages: ChromiumPanes, runs: int) -> list[Row]:
        rows = []
        for size in SIZES:
            row = Row("V2 reference, Chromium textarea", f"{size:,} chars", verified=None)
            pages.clear()
            sent: list[Sent] = []
            for run in range(runs):
                text = text_of(size, run)
                started = time.perf_counter()
                self.deliver(agent, text)
                row.times.append(time.perf_counter() - started)
                sent.append(Sent(agent.agent_id, text))  # V2 reported everything delivered
            score(row, sent, arrivals(pages, len(sent)))
            rows.append(row)
        return rows

    def broadcast(self, agents: list[Agent], pages: ChromiumPanes) -> Row:
        row = Row("V2 reference, broadcast to 8", "200 chars, wall time", verified=None)
        pages.clear()
        text = text_of(200, 0)
        started = time.perf_counter()
        for index, agent in enumerate(agents):
            if index:
                time.sleep(V2_BETWEEN_RECIPIENTS_S)
            self.deliver(agent, text)
        row.times.append(time.perf_counter() - started)
        score(row, [Sent(a.agent_id, text) for a in agents], arrivals(pages, len(agents)))
        return row


# -- main ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    textarea: int
    rich: int
    busy: int
    terminal: int
    broadcasts: int
    v2: int
    sharing: int


def counts(args: argparse.Namespace) -> Counts:
    if args.quick:
        return Counts(textarea=4, rich=3, busy=2, terminal=3, broadcasts=2, v2=1, sharing=4)
    return Counts(
        textarea=args.runs,
        rich=args.rich_runs,
        busy=args.busy_runs,
        terminal=args.terminal_runs,
        broadcasts=args.broadcasts,
        v2=args.v2_runs,
        sharing=args.sharing_runs,
    )


def agent_at(agent_id: str, point: tuple[int, int], typing: Typing | None = None) -> Agent:
    return Agent(agent_id, "", True, Point(*point), None, typing=typing or Typing())


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise TimeoutError in the main thread after ``seconds``, so every ``with`` block
    below stops its apps and the display."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise TimeoutError(f"the benchmark ran longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def free_clipboard(display: str) -> None:
    """Take the clipboard and leave it empty: the xclip that holds it (V2's copy, the
    deliverer's hand-back) loses it and exits."""
    x11 = X11(display)
    try:
        x11.offer("")
        x11.release()
    finally:
        x11.close()


def run(
    n: Counts, skip_v2: bool, work: Path, sharing_only: bool = False, wake_turns: bool = False
) -> tuple[list[Row], str, list[str]]:
    """Start the display, openbox and the apps, measure, and stop everything again."""
    grid = grid_panes()
    with (
        VirtualDisplay(THREE_MONITORS, workdir=work) as display,
        WindowManager(display.name, workdir=work),
    ):
        os.environ["DISPLAY"] = display.name
        with (
            ChromiumPanes([*grid, RICH, BUSY], display.name, work / "pages") as pages,
            TerminalPanes([TERMINAL], display.name, work / "terminals") as terminals,
        ):
            points = {**pages.pane_points(), **terminals.pane_points()}
            agents = {
                agent_id: agent_at(
                    agent_id, point, TERMINAL_TYPING if agent_id == TERMINAL.agent_id else None
                )
                for agent_id, point in points.items()
            }
            rows: list[Row] = []
            try:
                if not sharing_only:
                    rows = targets(n, agents, pages, terminals)
                    home = broadcast_home(work, {p.agent_id: points[p.agent_id] for p in grid})
                    rows.append(asyncio.run(broadcast(home, pages, n.broadcasts, wake_turns)))
                    rows += fresh_processes(home, pages, n.broadcasts)
                    rows.append(asyncio.run(beside_holds(home, pages, display.name, n.broadcasts)))
                if not (skip_v2 or sharing_only):
                    v2 = V2Profile()
                    rows += v2.per_message(agents["Agent-1"], pages, n.v2)
                    rows.append(v2.broadcast([agents[p.agent_id] for p in grid], pages))
                sharing = screen_sharing.measure(
                    display.name,
                    pages,
                    [agents[p.agent_id] for p in grid[4:]],
                    work / "editor",
                    n.sharing,
                    text_of(200, 0),
                ).lines()
            finally:
                free_clipboard(display.name)
        return rows, display.describe(), sharing


def targets(
    n: Counts, agents: dict[str, Agent], pages: ChromiumPanes, terminals: TerminalPanes
) -> list[Row]:
    """Each kind of target through one deliverer with default settings."""
    deliverer = GuiDeliverer(GuiSettings())
    two_monitors = [agents["Agent-1"], agents["Agent-5"]]
    try:
        return [
            *per_message("Chromium textarea", deliverer, two_monitors, pages, n.textarea),
            *per_message(
                "Chromium contenteditable", deliverer, [agents[RICH.agent_id]], pages, n.rich
            ),
            *per_message(
                "Chromium, ignores Enter",
                deliverer,
                [agents[BUSY.agent_id]],
                pages,
                n.busy,
                SIZES[:1],
            ),
            *per_message(
                "xfce4-terminal", deliverer, [agents[TERMINAL.agent_id]], terminals, n.terminal
            ),
        ]
    finally:
        deliverer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=34, help="Chromium textarea messages per size")
    parser.add_argument("--rich-runs", type=int, default=20, help="contenteditable, per size")
    parser.add_argument("--busy-runs", type=int, default=5, help="into the page ignoring Enter")
    parser.add_argument("--terminal-runs", type=int, default=17, help="terminal, per size")
    parser.add_argument("--broadcasts", type=int, default=5, help="broadcasts to 8 agents")
    parser.add_argument("--v2-runs", type=int, default=3, help="V2 profile messages per size")
    parser.add_argument(
        "--sharing-runs", type=int, default=30, help="messages with checks on, and off"
    )
    parser.add_argument(
        "--sharing-only", action="store_true", help="only the part sharing the screen"
    )
    parser.add_argument("--skip-v2", action="store_true", help="leave out the slow V2 profile")
    parser.add_argument(
        "--wake-turns",
        action="store_true",
        help="every other broadcast through the desk without waking quiet clipboard requestors",
    )
    parser.add_argument("--quick", action="store_true", help="a few messages of each kind")
    parser.add_argument("--time-limit", type=int, default=1800, help="seconds, then stop")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="cellphone-bench-") as folder,
        time_limit(args.time_limit),
    ):
        load_before = os.getloadavg()[0]
        rows, where, sharing = run(
            counts(args), args.skip_v2, Path(folder), args.sharing_only, args.wake_turns
        )
    where += f"; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    rows = [row for row in rows if row.times]  # a kind asked for none (--runs 0): no row
    if rows:
        report(rows, where)
    else:
        print(f"screen delivery on a virtual X display under openbox ({where})")
    print()
    print("\n".join(sharing))


def report(rows: list[Row], where: str) -> None:
    headers = [
        "target",
        "case",
        "msgs",
        "median ms",
        "p95 ms",
        "exact",
        "verified",
        "reported delivered",
        "refused",
    ]
    table = [headers, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    print(f"screen delivery on a virtual X display under openbox ({where}, {os.cpu_count()} cores)")
    print(f"GuiSettings defaults: {GuiSettings().as_dict()}")
    print(f"terminal typing: {TERMINAL_TYPING}")
    for index, line in enumerate(table):
        print(
            "  ".join(
                cell.ljust(w) if i in (0, 1, 8) else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))
    ratios(rows)
    for row in rows:
        if row.steps:
            medians = (f"{name} {median_ms(row.steps, name):.1f}" for name in step_names(row.steps))
            print(f"{row.target}, median ms of each step of a pane: {', '.join(medians)}")
        for kind, n in row.pastes.items():
            times = [t for t, k in zip(row.times, row.kinds, strict=True) if k == kind]
            print(
                f"{row.target}, quiet clipboard requestors {kind}: {row.late[kind]} of {n} "
                f"pastes showed over {LATE_PASTE_S * 1000:.0f} ms after the paste keys; "
                f"broadcasts {', '.join(f'{t * 1000:.0f}' for t in times)} ms"
            )
    notes = [(row, note, n) for row in rows for note, n in row.notes.items()]
    if notes:
        print("\nmessages not both exact and verified, and texts nobody sent:")
        for row, note, n in notes:
            print(f"- {row.target}, {row.case}: {n}x {note}")


def ratios(rows: list[Row]) -> None:
    by = {(r.target, r.case): r.median_ms for r in rows}
    for size in SIZES:
        case = f"{size:,} chars"
        ours, v2 = (
            by.get(("Chromium textarea", case)),
            by.get(("V2 reference, Chromium textarea", case)),
        )
        if ours and v2:
            print(f"V2 median / Chromium textarea median, {case}: {v2 / ours:,.1f}x")
    ours = by.get(("broadcast to 8 Chromium panes", "200 chars, wall time"))
    v2 = by.get(("V2 reference, broadcast to 8", "200 chars, wall time"))
    if ours and v2:
        print(f"V2 broadcast / broadcast to 8 through the desk: {v2 / ours:,.1f}x")


if __name__ == "__main__":
    main()
