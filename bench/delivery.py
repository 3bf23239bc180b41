"""Benchmark of screen delivery on the virtual X display (needs Xorg with the dummy driver,
run as root): time per message, broadcast wall time and text fidelity, for the default
pacing, pacing 0 and a reference profile with the sleeps of the V2 code this replaces.

    python bench/delivery.py [--runs 30] [--skip-v2]

Prints a table; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents import Agent
from agents.home import example_coordinates, prepare_home
from agents.source import RegistrySource
from config import GuiSettings, Home, Settings, load_settings
from coordinates import Point
from coordinates.virtual_display import MonitorSpec, VirtualDisplay
from messaging.deliver import Job
from messaging.model import DeliveryState, Message
from messaging.render import render
from messaging.runtime import open_runtime
from messaging.screen.gui import GuiDeliverer
from messaging.screen.standin import ChatWindows, Pane

MONITORS = (MonitorSpec(1920, 1080, 0, 0), MonitorSpec(1920, 1080, 1920, 0))
SIZES = (200, 2_000, 10_000)
ZERO = GuiSettings(pause_after_click_s=0, pause_after_paste_s=0, pause_between_recipients_s=0)
V2_BETWEEN_RECIPIENTS_S = 1.0


@dataclass
class Row:
    profile: str
    case: str
    times: list[float] = field(default_factory=list)
    exact: int = 0
    total: int = 0

    def cells(self) -> list[str]:
        ordered = sorted(self.times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return [
            self.profile,
            self.case,
            str(len(self.times)),
            f"{statistics.median(self.times) * 1000:,.1f}",
            f"{p95 * 1000:,.1f}",
            f"{self.exact}/{self.total}",
        ]


def text_of(length: int, seed: int) -> str:
    line = f"[{seed}] Grüße ✓ 🚀 naïve façade — ½ ∑ 世界 "
    body = (line * (length // len(line) + 1))[: length - 1]
    return body[: length // 2] + "\n" + body[length // 2 :]


def panes(home: Home) -> list[Pane]:
    """A window at each chat point of the example home (eight agents on two monitors)."""
    registry = RegistrySource(home.coordinates_file).current()
    return [Pane(a.agent_id, a.chat_point.x, a.chat_point.y) for a in registry if a.chat_point]


def agents_of(all_panes: list[Pane]) -> list[Agent]:
    return [Agent(p.agent_id, "", True, Point(p.x, p.y), None) for p in all_panes]


# -- per message -----------------------------------------------------------------------


def per_message(
    name: str,
    deliver: Callable[[Job], None],
    agents: list[Agent],
    windows: ChatWindows,
    runs: int,
) -> list[Row]:
    rows = []
    for size in SIZES:
        row = Row(name, f"1 message, {size:,} chars")
        windows.clear()
        sent: list[tuple[str, str]] = []
        for run in range(runs):
            agent = agents[run % len(agents)]
            text = text_of(size, run)
            job = Job(Message("Captain", (agent.agent_id,), text), agent, text)
            started = time.perf_counter()
            deliver(job)
            row.times.append(time.perf_counter() - started)
            sent.append((agent.agent_id, text))
        got = windows.wait_for(len(sent), timeout=30)
        row.total = len(sent)
        row.exact = sum(
            1 for (a, t), r in zip(sent, got, strict=False) if (a, t) == (r.agent_id, r.text)
        )
        rows.append(row)
    return rows


# -- broadcast through the whole stack -------------------------------------------------


async def broadcast(
    name: str, home: Home, gui: GuiSettings, windows: ChatWindows, runs: int
) -> Row:
    settings = load_settings(home).model_copy(update={"gui": gui})
    row = Row(name, "broadcast to 8 agents (store + desk)")
    screen = GuiDeliverer(gui)
    async with open_runtime(home, settings, screen) as rt:
        for run in range(runs):
            windows.clear()
            started = time.perf_counter()
            submission = await rt.service.broadcast(text_of(200, run))
            outcomes = await rt.desk.wait_for(submission.message.id, 120)
            row.times.append(time.perf_counter() - started)
            got = windows.wait_for(8, timeout=30)
            expected = {a: rt_text(submission.message, a, settings) for a in outcomes}
            row.total += 8
            row.exact += sum(
                1
                for r in got
                if expected.get(r.agent_id) == r.text
                and outcomes[r.agent_id].state is DeliveryState.DELIVERED
            )
    screen.close()
    return row


def rt_text(message: Message, agent_id: str, settings: Settings) -> str:
    return render(message, agent_id, settings.messaging.footer)


# -- the V2 reference profile -----------------------------------------------------------


class V2Profile:
    """The V2 sequence with its own sleeps: a 0.5 s mouse move, 0.5 s after the click,
    0.1-0.2 s between select-all, delete, copy, paste and Enter, pyautogui's default 0.1 s
    pause after each of its six calls, and 1 s between recipients."""

    def __init__(self) -> None:
        import pyautogui
        import pyperclip

        self.gui, self.clip = pyautogui, pyperclip

    def deliver(self, job: Job) -> None:
        gui, saved = self.gui, self.gui.PAUSE
        gui.PAUSE = 0.1
        try:
            assert job.agent.chat_point is not None
            gui.moveTo(*job.agent.chat_point, duration=0.5)
            gui.click()
            time.sleep(0.5)
            gui.hotkey("ctrl", "a")
            time.sleep(0.1)
            gui.press("delete")
            time.sleep(0.1)
            self.clip.copy(job.text)
            time.sleep(0.1)
            gui.hotkey("ctrl", "v")
            time.sleep(0.2)
            gui.press("enter")
        finally:
            gui.PAUSE = saved

    def broadcast(self, agents: list[Agent], windows: ChatWindows) -> Row:
        row = Row("V2 reference", "broadcast to 8 agents")
        windows.clear()
        text = text_of(200, 0)
        started = time.perf_counter()
        for index, agent in enumerate(agents):
            if index:
                time.sleep(V2_BETWEEN_RECIPIENTS_S)
            self.deliver(Job(Message("Captain", (agent.agent_id,), text), agent, text))
        row.times.append(time.perf_counter() - started)
        got = windows.wait_for(len(agents), timeout=30)
        row.total, row.exact = len(agents), sum(1 for r in got if r.text == text)
        return row


# -- main ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="messages per size and profile")
    parser.add_argument("--skip-v2", action="store_true", help="leave out the slow V2 profile")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cellphone-bench-"))
    home = Home(work / "home")
    prepare_home(home, example_coordinates(calibrated=True))  # the windows stand there
    all_panes = panes(home)
    agents = agents_of(all_panes)
    with VirtualDisplay(MONITORS) as display:
        os.environ["DISPLAY"] = display.name
        with ChatWindows(all_panes, display.name, work / "windows") as windows:
            rows: list[Row] = []
            for name, gui in (("default pacing", GuiSettings()), ("pacing 0", ZERO)):
                screen = GuiDeliverer(gui)
                rows += per_message(name, screen.deliver_now, agents, windows, args.runs)
                screen.close()
                rows.append(
                    asyncio.run(broadcast(name, home, gui, windows, max(3, args.runs // 5)))
                )
            if not args.skip_v2:
                v2 = V2Profile()
                rows += per_message("V2 reference", v2.deliver, agents, windows, 3)
                rows.append(v2.broadcast(agents, windows))
    report(rows, display_text=", ".join(f"{s.width}x{s.height}+{s.x}+{s.y}" for s in MONITORS))


def report(rows: list[Row], display_text: str) -> None:
    headers = ["profile", "case", "runs", "median ms", "p95 ms", "exact"]
    table = [headers, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    print(
        f"screen delivery on a virtual X display ({display_text}), GuiSettings defaults: "
        f"{GuiSettings().model_dump()}"
    )
    for index, line in enumerate(table):
        print(
            "  ".join(
                cell.ljust(w) if i < 2 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))
    by = {(r.profile, r.case): statistics.median(r.times) for r in rows}
    for case in (f"1 message, {SIZES[0]:,} chars",):
        if ("V2 reference", case) in by:
            ratio = by[("V2 reference", case)] / by[("default pacing", case)]
            print(f"V2 reference / default pacing, {case}: {ratio:,.1f}x")
    v2_broadcast = by.get(("V2 reference", "broadcast to 8 agents"))
    if v2_broadcast:
        ours = by[("default pacing", "broadcast to 8 agents (store + desk)")]
        print(f"V2 reference / default pacing, broadcast to 8: {v2_broadcast / ours:,.1f}x")


if __name__ == "__main__":
    main()
