"""The part of bench/delivery.py that measures sharing the screen with the operator, in the
same run and on the same Chromium panes: what the checks cost a message (on and off, taking
turns), drafts left alone, and pointer and focus given back. The operator is played by
xdotool, a program of its own sending input through the X server.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from agents import Agent
from config import GuiSettings
from messaging.deliver import DraftPresent, Job, NotDeliverable
from messaging.model import Message
from messaging.screen.apps import ChromiumPane, ChromiumPanes
from messaging.screen.gui import GuiDeliverer

OFF = GuiSettings(check_drafts=False, give_back=False, operator_idle_s=0)
EDITOR = ChromiumPane("Editor", 960, 1560, width=700, height=420, title="Editor — the operator's")
DRAFTS = ("k", "half a thought", "two lines\nof a draft")
FOCUS_TIMEOUT_S = 2.0
# The desk types once the operator's hands rested (gui.operator_idle_s, 2 s by default);
# a shorter rest here keeps the run short and still lets the window manager finish
# focusing the operator's window before the desk clicks.
OPERATOR_RESTS_S = 0.3


@dataclass
class Sharing:
    """What the sharing part measured."""

    on_ms: list[float] = field(default_factory=list)  # one message, then give back
    off_ms: list[float] = field(default_factory=list)
    run_on_ms: list[float] = field(default_factory=list)  # per message of a run of 8
    run_off_ms: list[float] = field(default_factory=list)
    draft_attempts: int = 0
    drafts_refused: int = 0
    drafts_changed: int = 0
    drafts_submitted: int = 0
    given_back: int = 0
    pointer_back: int = 0
    focus_back: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        def median(values: list[float]) -> str:
            return f"{statistics.median(values):,.1f} ms" if values else "-"

        added = (
            statistics.median(self.on_ms) - statistics.median(self.off_ms)
            if self.on_ms and self.off_ms
            else float("nan")
        )
        added_run = (
            statistics.median(self.run_on_ms) - statistics.median(self.run_off_ms)
            if self.run_on_ms and self.run_off_ms
            else float("nan")
        )
        return [
            "sharing the screen (Chromium textarea, 200 chars; checks on and off taking turns):",
            f"  one message then give back: on {median(self.on_ms)}, off {median(self.off_ms)}"
            f" ({len(self.on_ms)} each): the checks add {added:,.1f} ms a message",
            f"  runs of 4 panes, give back after each run: on {median(self.run_on_ms)}, off "
            f"{median(self.run_off_ms)} a message ({len(self.run_on_ms)} each): "
            f"{added_run:,.1f} ms a message",
            f"  attempts with a draft present: {self.draft_attempts}; held {self.drafts_refused}, "
            f"drafts changed {self.drafts_changed}, drafts or messages submitted "
            f"{self.drafts_submitted}",
            f"  deliveries given back: {self.given_back}; pointer back {self.pointer_back}, "
            f"focus back {self.focus_back}",
            *(f"  note: {note}" for note in self.notes),
        ]


def operator(display: str, *args: str) -> str:
    done = subprocess.run(
        ["xdotool", *args],
        env={"DISPLAY": display, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout.strip()


def pointer(display: str) -> tuple[int, int]:
    shell = dict(
        line.split("=", 1) for line in operator(display, "getmouselocation", "--shell").split()
    )
    return int(shell["X"]), int(shell["Y"])


def measure(
    display: str, pages: ChromiumPanes, panes: list[Agent], work: Path, runs: int, text: str
) -> Sharing:
    """``runs`` of each measurement (at least 50 with drafts and with give-backs);
    ``panes``: agents at Chromium textareas of ``pages``, none under :data:`EDITOR`, the
    operator's own window, started here on top of the others."""
    result = Sharing()
    on, off = GuiDeliverer(GuiSettings()), GuiDeliverer(OFF)
    try:
        with ChromiumPanes([EDITOR], display, work) as editor:
            costs(result, on, off, panes, runs, text)
            drafts(result, on, display, pages, panes[:2], max(runs, 50))
            give_back(result, on, display, editor, panes, max(runs, 50), text)
    finally:
        on.close()
        off.close()
    return result


def one(deliverer: GuiDeliverer, agent: Agent, text: str) -> float:
    """One message as the desk sends it: the operator's idle time, the draft check, the
    delivery, and the give-back (each a no-op when the settings turn it off)."""
    job = Job(Message("Captain", (agent.agent_id,), text), agent, text)
    started = time.perf_counter()
    if deliverer.settings.operator_idle_s > 0:  # the desk reads it before each message
        deliverer.operator_idle_s()
    if deliverer.draft(job) is not None:
        raise RuntimeError(f"a draft in {agent.agent_id}'s input")
    deliverer.deliver_now(job)
    return (time.perf_counter() - started) * 1000


def costs(
    result: Sharing,
    on: GuiDeliverer,
    off: GuiDeliverer,
    panes: list[Agent],
    runs: int,
    text: str,
) -> None:
    for agent in panes:  # once per input and process: learn how it looks empty
        for deliverer in (on, off):
            one(deliverer, agent, text)
            deliverer.give_back()
    for turn in range(runs * 2):
        deliverer = on if turn % 2 == 0 else off
        agent = panes[turn % len(panes)]
        started = time.perf_counter()
        one(deliverer, agent, text)
        deliverer.give_back()
        (result.on_ms if deliverer is on else result.off_ms).append(
            (time.perf_counter() - started) * 1000
        )
    for turn in range(max(2, runs // 4) * 2):
        deliverer = on if turn % 2 == 0 else off
        started = time.perf_counter()
        for agent in panes:
            one(deliverer, agent, text)
        deliverer.give_back()
        per_message = (time.perf_counter() - started) * 1000 / len(panes)
        (result.run_on_ms if deliverer is on else result.run_off_ms).append(per_message)


def drafts(
    result: Sharing,
    deliverer: GuiDeliverer,
    display: str,
    pages: ChromiumPanes,
    agents: list[Agent],
    attempts: int,
) -> None:
    """The operator types a draft into each input; the desk tries ``attempts`` times."""
    pages.clear()
    typed: dict[str, str] = {}
    for index, agent in enumerate(agents):
        x, y = agent.chat_point or (0, 0)
        operator(display, "mousemove", str(x), str(y), "click", "1")
        draft = DRAFTS[index % len(DRAFTS)]
        operator(display, "type", "--delay", "10", draft)
        pages.wait_for_draft(agent.agent_id, draft)
        typed[agent.agent_id] = draft
    for attempt in range(attempts):
        agent = agents[attempt % len(agents)]
        result.draft_attempts += 1
        text = f"[C2A] Captain → {agent.agent_id}\nattempt {attempt} over a draft"
        job = Job(Message("Captain", (agent.agent_id,), text), agent, text)
        if deliverer.draft(job) is not None:
            result.drafts_refused += 1
            continue
        try:
            deliverer.deliver_now(job)
        except DraftPresent:
            result.drafts_refused += 1
        except NotDeliverable as exc:
            result.notes.append(f"attempt {attempt}: {exc.reason}")
    time.sleep(0.5)  # anything submitted by mistake has time to arrive
    result.drafts_submitted = len(pages.received())
    for agent in agents:
        if pages.draft(agent.agent_id) != typed[agent.agent_id]:
            result.drafts_changed += 1
        x, y = agent.chat_point or (0, 0)
        operator(display, "mousemove", str(x), str(y), "click", "1", "key", "ctrl+a")
        operator(display, "key", "BackSpace")
        pages.wait_for_draft(agent.agent_id, "")


def give_back(
    result: Sharing,
    deliverer: GuiDeliverer,
    display: str,
    editor: ChromiumPanes,
    panes: list[Agent],
    deliveries: int,
    text: str,
) -> None:
    """Before each delivery the operator works in their own window, the pointer somewhere
    in it; after it, pointer and focus must be back."""
    ex, ey = editor.pane_points()[EDITOR.agent_id]
    for index in range(deliveries):
        operator(display, "mousemove", str(ex), str(ey), "click", "1")
        where = (ex - 200 + (index * 37) % 400, ey - 30 - (index * 13) % 200)
        operator(display, "mousemove", str(where[0]), str(where[1]))
        time.sleep(OPERATOR_RESTS_S)
        one(deliverer, panes[index % len(panes)], text)
        deliverer.give_back()
        result.given_back += 1
        result.pointer_back += pointer(display) == where
        deadline = time.monotonic() + FOCUS_TIMEOUT_S
        while operator(display, "getwindowfocus", "getwindowname") != EDITOR.window_title:
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        else:
            result.focus_back += 1
