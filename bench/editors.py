"""Benchmark of the desk typing into chat inputs built from the real web editors (Monaco,
ProseMirror, Tiptap, Lexical rich text and plain text, CodeMirror 6; the pages of
``tests/editors``) in Chromium, on a virtual three-monitor X display under openbox (needs
root, the test command's Debian packages and the bundles of ``tests/editors/install.sh``).

1. What each editor does with pasted text: probe texts (new lines, blank lines, markdown
   marks, leading and trailing spaces, tabs, 10,000 characters, unicode) pasted by the
   desk's screen deliverer, each compared with what the editor's own text API held at Enter;
   with the default paste keys (ctrl+v) and again with ctrl+shift+v (Chromium's paste as
   plain text) for the editors that rewrite.
2. Per message through a running desk (service, store, desk): ``--messages`` plain-text
   messages to each editor, back to back, and to the plain textarea page (``chat.html``) in
   the same run; median and p95 per message and the ratio to the textarea's median.
3. With ``--busy N``: N messages through the same desk to a busy pane of each editor (Enter
   does nothing while the agent works): how many were reported delivered (each one a false
   claim), the outcomes, and what the pages received (nothing, when all is well). With
   ``--busy-processes N``, N more to each, every one from a ``cellphone send`` process of its
   own, as an operator sends them one command at a time.
4. With ``--now-and-then N``: N messages, each to the panes of the five editors at once,
   whose pages take every third Enter for nothing (an agent at work now and then), in the
   busy panes' places. The desk types such a run window after window and watches the
   submissions at the end: how many were reported delivered that the page never sent
   (false claims), how many the page sent that were reported otherwise, and how many
   submissions were watched after the next window was clicked. With
   ``--now-and-then-processes N``, N more, each from a ``cellphone send`` process of its own.

    export CELLPHONE_TEST_EDITORS=$(bash tests/editors/install.sh)
    python bench/editors.py [--messages 100] [--display 60]
    python bench/editors.py --quick    # 10 messages each, about a minute
    python bench/editors.py --skip-probes --messages 0 --busy 40   # busy panes alone

Prints tables; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents import Agent
from config import GuiSettings, Home, load_settings
from coordinates import Point, Typing
from coordinates.virtual_display import THREE_MONITORS, VirtualDisplay
from messaging.deliver import Job, NotDeliverable
from messaging.model import DeliveryState, Message
from messaging.render import render
from messaging.runtime import Runtime, open_runtime
from messaging.screen.apps import ChromiumPane, ChromiumPanes, WindowManager
from messaging.screen.gui import WATCHED_LOG, GuiDeliverer
from messaging.steps import StepRecords, median_ms, step_names
from tests.conftest import make_home
from tests.editors.pages import EditorPane, EditorPanes, editors_folder
from tests.editors.panes import coordinates_of
from tests.editors.rewriting import held
from tests.gui.test_real_apps import text_of

EDITORS = ("monaco", "prosemirror", "tiptap", "lexical", "lexical-plain", "codemirror")
TEXTAREA = ChromiumPane("Agent-7", 320, 400, title="Agent-7 — textarea chat")
POINTS = ((960, 400), (320, 1400), (960, 1400), (1600, 1400), (2240, 1400), (2880, 1400))
PANES = tuple(
    EditorPane(f"Agent-{index + 1}", editor, *point)
    for index, (editor, point) in enumerate(zip(EDITORS, POINTS, strict=True))
)
STEP_RECORDS = StepRecords()  # the screen deliverer's steps of each delivery
BUSY_POINTS = ((320, 1900), (960, 1900), (1600, 1900), (2240, 1900), (2880, 1900))
BUSY = tuple(
    EditorPane(f"Agent-{index + 8}", editor, *point, busy=True)
    for index, (editor, point) in enumerate(
        zip(("monaco", "prosemirror", "tiptap", "lexical", "codemirror"), BUSY_POINTS, strict=True)
    )
)
NOW_AND_THEN = tuple(replace(pane, busy=False, ignores_every=3) for pane in BUSY)
BUSY_BODIES = ("Grüße, 世界! ✓ «quoted» 🚀 é (e + ◌́) 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "short, while the agent still works")
PROBES = {
    "new lines": "one\ntwo\nthree",
    "blank lines": "para one\n\npara two\n\n\npara three",
    "**bold**": "some **bold** words",
    "_x_": "an _x_ here",
    "backticks": "run `make test` now",
    "~~s~~": "it was ~~struck~~ out",
    "# h": "# heading\nbody",
    "- item": "- item one\n- item two",
    "leading/trailing spaces": "   spaced out   ",
    "tabs": "a\tb\n\tindented by a tab",
    "10,000 chars": text_of(10_000, 1),
    "unicode": "Grüße, 世界! ✓ «quoted» 🚀 é (e + ◌́)",
}
PLAIN_PASTE = ("ctrl", "shift", "v")
ARRIVAL_S = 5.0
LATE_S = 1.0
SEND_TIMEOUT_S = 30.0
# Tiptap's paste rules (StarterKit's bold, italic, code and strike extensions): the text
# between the markers keeps, the markers go
MARK_RULES = (
    re.compile(r"(?:^|\s)(\*\*(?!\s+\*\*)((?:[^*]+))\*\*(?!\s+\*\*))"),
    re.compile(r"(?:^|\s)(__(?!\s+__)((?:[^_]+))__(?!\s+__))"),
    re.compile(r"(?:^|\s)(\*(?!\s+\*)((?:[^*]+))\*(?!\s+\*))"),
    re.compile(r"(?:^|\s)(_(?!\s+_)((?:[^_]+))_(?!\s+_))"),
    re.compile(r"(?:^|\s)(~~(?!\s+~~)((?:[^~]+))~~(?!\s+~~))"),
)
CODE_RULE = re.compile(r"(^|[^`])`([^`]+)`(?!`)")


# -- what an editor did with a text ------------------------------------------------------


def without_marks(text: str) -> str:
    for rule in MARK_RULES:
        text = rule.sub(lambda m: m.group(0).replace(m.group(1), m.group(2)), text)
    return CODE_RULE.sub(lambda m: m.group(1) + m.group(2), text)


def rewriting(sent: str, got: str | None) -> str:
    """``exact``, or how ``got`` differs from ``sent``, in the terms the editors' rules use."""
    if got is None:
        return "nothing arrived"
    if got == sent:
        return "exact"
    ways = {
        "line breaks doubled (a paragraph a line)": held("lexical", sent),
        "blank lines dropped (a paragraph a line)": held("prosemirror", sent),
        "markdown marks became formatting": without_marks(sent),
        "marks became formatting, blank lines dropped": held("prosemirror", without_marks(sent)),
        "trailing spaces dropped": "\n".join(line.rstrip(" ") for line in sent.split("\n")),
        "leading spaces dropped": "\n".join(line.lstrip(" ") for line in sent.split("\n")),
        "tabs became spaces": sent.expandtabs(4),
    }
    for how, text in ways.items():
        if got == text:
            return how
    return f"other: {got[:50]!r}"


@dataclass
class Probed:
    editor: str
    keys: str
    cells: dict[str, str] = field(default_factory=dict)
    desk: Counter[str] = field(default_factory=Counter)  # what the desk reported


def probe(
    deliverer: GuiDeliverer, pages: EditorPanes, pane: EditorPane, agent: Agent, keys: str
) -> Probed:
    """Each probe text pasted with the agent's keys; what the editor held of it."""
    result = Probed(pane.editor, keys)
    for name, text in PROBES.items():
        pages.clear()
        job = Job(Message("Captain", (agent.agent_id,), text), agent, text)
        try:
            typed = deliverer.deliver_now(job)
            said = "delivered, verified" if typed.verified else "delivered"
        except NotDeliverable as exc:
            said = exc.reason.split(":")[0][:60]
        result.desk[said] += 1
        with contextlib.suppress(TimeoutError):
            pages.wait_for(1, timeout=ARRIVAL_S)
        got = pages.texts(agent.agent_id)
        cell = rewriting(text, got[0] if got else None)
        result.cells[name] = cell if said == "delivered, verified" else f"{cell} (desk: {said})"
    return result


# -- per message through a running desk ---------------------------------------------------


@dataclass
class Timed:
    target: str
    times: list[float] = field(default_factory=list)
    steps: list[dict[str, float]] = field(default_factory=list)  # seconds by step, each message
    sent: int = 0
    as_sent: int = 0
    as_documented: int = 0  # as sent, or as the editor documents rewriting it
    delivered: int = 0
    other: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # held, but not as expected
    missing: list[str] = field(default_factory=list)  # expected, not held

    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else float("nan")

    def p95_ms(self) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


@dataclass
class BusyRow:
    editor: str
    sent: int = 0
    claimed: int = 0  # reported delivered: a false claim, the pane takes no Enter
    outcomes: Counter[str] = field(default_factory=Counter)
    received: int = 0  # texts the page sent: none, while the agent works


async def through_desk(
    home: Home,
    targets: dict[str, str],
    apps: dict[str, ChromiumPanes],
    count: int,
    busy: int,
    busy_apps: EditorPanes | None,
    now_and_then: int = 0,
) -> tuple[list[Timed], list[BusyRow], list[NowAndThenRow]]:
    """``count`` messages to each target (agent id: editor, or "textarea"), back to back;
    then ``busy`` to each busy pane, a unicode one and a short one in turn."""
    settings = load_settings(home).replaced(gui=GuiSettings())
    screen = GuiDeliverer(settings.gui)
    rows = []
    await asyncio.sleep(settings.gui.operator_idle_s)  # the probes' keys were not this desk's
    try:
        async with open_runtime(home, settings, screen) as rt:
            for agent_id, editor in targets.items() if count else ():
                pages = apps[agent_id]
                pages.clear()
                row = Timed(editor)
                expected = []
                for index in range(count):
                    body = f"message {index} to the {editor} pane: {text_of(200, index)}"
                    STEP_RECORDS.clear()
                    started = time.perf_counter()
                    submission = await rt.service.send([agent_id], body)
                    outcome = (await rt.desk.wait_for(submission.message.id, SEND_TIMEOUT_S))[
                        agent_id
                    ]
                    row.times.append(time.perf_counter() - started)
                    row.steps.append(STEP_RECORDS.taken[-1] if STEP_RECORDS.taken else {})
                    row.sent += 1
                    if outcome.state is DeliveryState.DELIVERED and outcome.verified:
                        row.delivered += 1
                    else:
                        row.other[outcome.summary[:70]] += 1
                    expected.append(render(submission.message, agent_id, settings.messaging.footer))
                with contextlib.suppress(TimeoutError):
                    pages.wait_for(row.delivered, timeout=ARRIVAL_S)
                got = pages.texts(agent_id)
                if editor != "textarea":
                    expected_held = [held(editor, text) for text in expected]
                else:
                    expected_held = expected
                row.as_sent = sum(text in got for text in expected)
                row.as_documented = sum(text in got for text in expected_held)
                row.unexpected = [text for text in got if text not in expected_held]
                row.missing = [text for text in expected_held if text not in got]
                rows.append(row)
            busy_rows = [await to_busy(rt, pane, busy, busy_apps) for pane in BUSY] if busy else []
            intermittent = (
                await to_now_and_then(rt, now_and_then, busy_apps)
                if now_and_then and busy_apps is not None
                else []
            )
    finally:
        screen.close()
    return rows, busy_rows, intermittent


async def to_busy(rt: Runtime, pane: EditorPane, count: int, pages: EditorPanes | None) -> BusyRow:
    assert pages is not None
    row = BusyRow(pane.editor)
    pages.clear()
    for index in range(count):
        submission = await rt.service.send([pane.agent_id], BUSY_BODIES[index % 2])
        outcome = (await rt.desk.wait_for(submission.message.id, SEND_TIMEOUT_S))[pane.agent_id]
        row.sent += 1
        row.claimed += outcome.state is DeliveryState.DELIVERED
        row.outcomes[outcome.summary.split(":")[0][:60]] += 1
    await asyncio.sleep(LATE_S)  # a text the page sent late is counted too
    row.received = len(pages.texts(pane.agent_id))
    return row


def send_by_process(home: Home, agent_ids: list[str], body: str) -> list[dict]:
    """``body`` to ``agent_ids`` from a ``cellphone send`` process of its own: the outcomes
    it printed (``--json``)."""
    command = [str(Path(sys.executable).parent / "cellphone"), "send", "--home", str(home.root)]
    recipients = [arg for agent_id in agent_ids for arg in ("--to", agent_id)]
    done = subprocess.run(
        [*command, "--json", *recipients, body],
        capture_output=True,
        text=True,
        timeout=SEND_TIMEOUT_S * 2,
    )
    if not done.stdout.strip():
        raise RuntimeError(f"cellphone send failed: {done.stderr.strip()[-500:]}")
    outcomes: list[dict] = json.loads(done.stdout)["outcomes"]
    return outcomes


def summary_of(outcome: dict) -> str:
    """What an outcome printed by ``cellphone send --json`` says, up to its first colon."""
    summary = outcome["reason"] or f"{outcome['state']} via {outcome['method']}"
    return str(summary).split(":")[0][:60]


def to_busy_by_processes(
    home: Home, pane: EditorPane, count: int, pages: EditorPanes | None
) -> BusyRow:
    """As :func:`to_busy`, each message from a ``cellphone send`` process of its own (no desk
    running otherwise): what one process left in the input and learnt of it reaches the
    next only through the home."""
    assert pages is not None
    row = BusyRow(f"{pane.editor}, one `cellphone send` process each")
    pages.clear()
    for index in range(count):
        (outcome,) = send_by_process(home, [pane.agent_id], BUSY_BODIES[index % 2])
        row.sent += 1
        row.claimed += outcome["state"] == "delivered" and outcome["method"] == "gui"
        row.outcomes[summary_of(outcome)] += 1
    time.sleep(LATE_S)  # a text the page sent late is counted too
    row.received = len(pages.texts(pane.agent_id))
    return row


@dataclass
class NowAndThenRow:
    editor: str
    sent: int = 0
    claimed: set[int] = field(default_factory=set)  # turns reported delivered
    received: set[int] = field(default_factory=set)  # turns the page sent
    watched: int | None = 0  # submissions watched after the next window was clicked
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def false_claims(self) -> int:
        return len(self.claimed - self.received)

    @property
    def sent_not_claimed(self) -> int:
        return len(self.received - self.claimed)


class WatchedCount(logging.Handler):
    """Counts, by agent, the submissions watched after the desk typed into the next window
    (the screen deliverer logs each)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_agent: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == WATCHED_LOG:
            self.by_agent[str(record.args[0])] += 1  # type: ignore[index]


def now_and_then_body(turn: int) -> str:
    return f"(turn {turn:04d}) {BUSY_BODIES[turn % 2]}"


def received_turns(pages: EditorPanes, agent_id: str, count: int) -> set[int]:
    texts = pages.texts(agent_id)
    return {turn for turn in range(count) if any(f"(turn {turn:04d})" in t for t in texts)}


async def to_now_and_then(rt: Runtime, count: int, pages: EditorPanes) -> list[NowAndThenRow]:
    """``count`` messages, each to the five panes that take every third Enter for nothing,
    through the running desk."""
    rows = {pane.agent_id: NowAndThenRow(pane.editor) for pane in NOW_AND_THEN}
    pages.clear()
    counted = WatchedCount()
    logger = logging.getLogger("messaging.screen.gui")
    level = logger.level
    logger.addHandler(counted)
    logger.setLevel(logging.DEBUG)
    try:
        for turn in range(count):
            submission = await rt.service.send(list(rows), now_and_then_body(turn))
            outcomes = await rt.desk.wait_for(submission.message.id, SEND_TIMEOUT_S)
            for agent_id, outcome in outcomes.items():
                row = rows[agent_id]
                row.sent += 1
                if outcome.state is DeliveryState.DELIVERED:
                    row.claimed.add(turn)
                row.outcomes[(outcome.reason or outcome.summary).split(":")[0][:60]] += 1
    finally:
        logger.removeHandler(counted)
        logger.setLevel(level)
    await asyncio.sleep(LATE_S)  # a text the page sent late is counted too
    for agent_id, row in rows.items():
        row.received = received_turns(pages, agent_id, count)
        row.watched = counted.by_agent[agent_id]
    return list(rows.values())


def to_now_and_then_by_processes(home: Home, count: int, pages: EditorPanes) -> list[NowAndThenRow]:
    """As :func:`to_now_and_then`, each message from a ``cellphone send`` process of its
    own (no desk running otherwise)."""
    rows = {
        pane.agent_id: NowAndThenRow(f"{pane.editor}, `cellphone send` processes", watched=None)
        for pane in NOW_AND_THEN
    }
    pages.clear()
    for turn in range(count):
        for outcome in send_by_process(home, list(rows), now_and_then_body(turn)):
            row = rows[outcome["agent"]]
            row.sent += 1
            if outcome["state"] == "delivered":
                row.claimed.add(turn)
            row.outcomes[summary_of(outcome)] += 1
    time.sleep(LATE_S)  # a text the page sent late is counted too
    for agent_id, row in rows.items():
        row.received = received_turns(pages, agent_id, count)
    return list(rows.values())


@dataclass
class DraftRow:
    editor: str
    attempts: int = 0
    first_contact: int = 0  # of them, with an input the desk had never seen empty
    held: int = 0  # the deliverer typed nothing and said so
    changed: int = 0  # the draft was not exactly as the operator left it
    sent: int = 0  # the page received something


def xdotool(display: VirtualDisplay, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=display.env(), check=True, timeout=10)


def drafts(
    display: VirtualDisplay, editors: EditorPanes, panes: list[EditorPane], count: int, work: Path
) -> list[DraftRow]:
    """``count`` deliveries to each editor's input while it holds an operator's draft:
    every other one at first contact (a deliverer whose home has no look of the input),
    the others after the desk typed into it once. The draft is typed with xdotool."""
    rows = []
    points = editors.pane_points()
    for pane in panes:
        row, x, y = DraftRow(pane.editor), *points[pane.agent_id]
        agent = agent_at(pane.agent_id, (x, y))
        seen = GuiDeliverer(GuiSettings())
        seen.remember_looks_in(work / "looks-seen" / pane.agent_id)
        editors.clear()
        try:
            seen.deliver_now(Job(Message("Captain", (agent.agent_id,), "x"), agent, "first"))
            for attempt in range(count):
                draft = f"operator draft {attempt}, half written"
                xdotool(display, "mousemove", str(x), str(y), "click", "1")
                xdotool(display, "key", "ctrl+a", "BackSpace")
                xdotool(display, "type", "--delay", "1", draft)
                with contextlib.suppress(TimeoutError):
                    editors.wait_for_draft(pane.agent_id, draft, timeout=5)
                xdotool(display, "mousemove", "20", "20")
                first = attempt % 2 == 0
                deliverer = seen
                if first:
                    deliverer = GuiDeliverer(GuiSettings())
                    deliverer.remember_looks_in(work / f"looks-{pane.agent_id}-{attempt}")
                received = len(editors.texts(pane.agent_id))
                text = f"message {attempt} for {pane.editor}"
                try:
                    deliverer.deliver_now(
                        Job(Message("Captain", (agent.agent_id,), "y"), agent, text)
                    )
                except NotDeliverable as exc:
                    row.held += "holds a draft" in exc.reason
                finally:
                    if first:
                        deliverer.close()
                time.sleep(0.2)  # what the page would still change or send
                row.attempts += 1
                row.first_contact += first
                row.changed += editors.draft(pane.agent_id) != draft
                row.sent += len(editors.texts(pane.agent_id)) > received
        finally:
            seen.close()
            xdotool(display, "mousemove", str(x), str(y), "click", "1")
            xdotool(display, "key", "ctrl+a", "BackSpace")
        rows.append(row)
    return rows


# -- running it ---------------------------------------------------------------------------


def agent_at(agent_id: str, point: tuple[int, int], typing: Typing | None = None) -> Agent:
    return Agent(agent_id, "", True, Point(*point), None, typing=typing or Typing())


@contextlib.contextmanager
def display_with_wm(number: int | None, work: Path) -> Iterator[VirtualDisplay]:
    with (
        VirtualDisplay(THREE_MONITORS, display=number, workdir=work) as display,
        WindowManager(display.name, workdir=work),
    ):
        os.environ["DISPLAY"] = display.name
        yield display


def run(
    count: int,
    number: int | None,
    work: Path,
    only: list[str] | None = None,
    skip_probes: bool = False,
    busy: int = 0,
    draft_count: int = 0,
    busy_processes: int = 0,
    now_and_then: int = 0,
    now_and_then_processes: int = 0,
) -> tuple[list[Probed], list[Timed], list[BusyRow], list[NowAndThenRow], list[DraftRow], str]:
    panes = [pane for pane in PANES if only is None or pane.editor in only]
    if (busy or busy_processes) and (now_and_then or now_and_then_processes):
        raise SystemExit("--busy and --now-and-then use the same places: ask for one of them")
    opened = [*panes, *(BUSY if busy or busy_processes else ())]
    opened += NOW_AND_THEN if now_and_then or now_and_then_processes else ()
    with (
        display_with_wm(number, work) as display,
        EditorPanes(opened, display.name, work / "editors", editors_folder()) as editors,
        ChromiumPanes([TEXTAREA], display.name, work / "textarea") as textarea,
    ):
        points = {**editors.pane_points(), **textarea.pane_points()}
        agents = {agent_id: agent_at(agent_id, point) for agent_id, point in points.items()}
        deliverer = GuiDeliverer(GuiSettings())
        probed = []
        try:
            for pane in panes if not skip_probes else ():
                agent = agents[pane.agent_id]
                probed.append(probe(deliverer, editors, pane, agent, "ctrl+v"))
                if pane.editor in ("prosemirror", "tiptap", "lexical"):
                    plain = replace(agent, typing=replace(agent.typing, paste_keys=PLAIN_PASTE))
                    probed.append(probe(deliverer, editors, pane, plain, "ctrl+shift+v"))
        finally:
            deliverer.close()
        draft_rows = drafts(display, editors, panes, draft_count, work) if draft_count else []
        home = make_home(work / "home", coordinates_of(points))
        targets = {TEXTAREA.agent_id: "textarea", **{p.agent_id: p.editor for p in panes}}
        apps: dict[str, ChromiumPanes] = {TEXTAREA.agent_id: textarea}
        apps.update({pane.agent_id: editors for pane in panes})
        timed, busy_rows, intermittent = asyncio.run(
            through_desk(home, targets, apps, count, busy, editors, now_and_then)
        )
        if busy_processes or now_and_then_processes:
            os.environ["DISPLAY"] = display.name
            time.sleep(GuiSettings().operator_idle_s)  # the desk's keys were its own
        if busy_processes:
            busy_rows += [to_busy_by_processes(home, p, busy_processes, editors) for p in BUSY]
        if now_and_then_processes:
            intermittent += to_now_and_then_by_processes(home, now_and_then_processes, editors)
        return probed, timed, busy_rows, intermittent, draft_rows, display.describe()


def table(headers: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def first_difference(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def report(
    probed: list[Probed],
    timed: list[Timed],
    busy: list[BusyRow],
    intermittent: list[NowAndThenRow],
    draft_rows: list[DraftRow],
    where: str,
    count: int,
) -> None:
    print(f"Chat inputs built from the web editors, Chromium ({where}, {os.cpu_count()} cores)\n")
    if probed:
        print("What each editor's text API held of a pasted text (the desk's screen deliverer):\n")
        names = [f"{p.editor} ({p.keys})" for p in probed]
        table(["probe", *names], [[name, *(p.cells[name] for p in probed)] for name in PROBES])
        print("\nwhat the desk reported for the probes:")
        for p in probed:
            print(
                f"- {p.editor} ({p.keys}): "
                + ", ".join(f"{n} {what}" for what, n in p.desk.items())
            )
    if timed:
        reference = next((t.median_ms() for t in timed if t.target == "textarea"), float("nan"))
        print(
            f"\nPer message through a running desk, {count} plain-text messages each, "
            "back to back:\n"
        )
        rows = [
            [
                t.target,
                str(t.sent),
                f"{t.median_ms():,.1f}",
                f"{t.p95_ms():,.1f}",
                f"{t.median_ms() / reference:,.2f}x",
                f"{t.delivered}/{t.sent}",
                f"{t.as_sent}/{t.sent}",
                f"{t.as_documented}/{t.sent}",
            ]
            for t in timed
        ]
        headers = ["input", "msgs", "median ms", "p95 ms", "/ textarea", "delivered, verified"]
        table([*headers, "held as sent", "as sent or as documented"], rows)
    if any(t.steps for t in timed):
        print("\nMedian ms of each step of the screen deliverer (rest: service and desk):\n")
        names = step_names(steps for t in timed for steps in t.steps)
        rows = []
        for t in timed:
            cells = [f"{median_ms(t.steps, name):.1f}" for name in names]
            rest = [took - sum(s.values()) for took, s in zip(t.times, t.steps, strict=True)]
            rows.append([t.target, *cells, f"{statistics.median(rest) * 1000:.1f}"])
        table(["input", *names, "rest"], rows)
    others = [(t.target, what, n) for t in timed for what, n in t.other.items()]
    if others:
        print("\nnot reported delivered and verified:")
        for target, what, n in others:
            print(f"- {target}: {n}x {what}")
    for t in timed:
        for got, wanted in zip(t.unexpected, t.missing, strict=False):
            at = first_difference(got, wanted)
            start = max(0, at - 20)
            print(f"\n{t.target} held, from character {start} on: {got[start : at + 60]!r}")
            print(f"  instead of: {wanted[start : at + 60]!r}")
        if len(t.unexpected) != len(t.missing):
            print(f"{t.target}: {len(t.unexpected)} unexpected, {len(t.missing)} missing")
    if busy:
        print("\nTo busy panes (Enter does nothing), a unicode and a short message in turn:\n")
        rows = [
            [
                b.editor,
                str(b.sent),
                str(b.claimed),
                ", ".join(f"{n} {what}" for what, n in b.outcomes.items()),
                str(b.received),
            ]
            for b in busy
        ]
        table(["editor", "msgs", "reported delivered (false)", "outcomes", "page got"], rows)
    if intermittent:
        print(
            "\nTo panes that take every third Enter for nothing, each message to the five at "
            "once:\n"
        )
        rows = [
            [
                n.editor,
                str(n.sent),
                str(len(n.claimed)),
                str(len(n.received)),
                str(n.false_claims),
                str(n.sent_not_claimed),
                "-" if n.watched is None else str(n.watched),
                ", ".join(f"{k} {what}" for what, k in n.outcomes.items()),
            ]
            for n in intermittent
        ]
        headers = ["editor", "msgs", "reported delivered", "page sent", "false claims"]
        headers += ["sent, reported not", "watched after the next click", "outcomes"]
        table(headers, rows)
    if draft_rows:
        print("\nWith an operator's draft in the input (every other attempt at first contact):\n")
        rows = [
            [
                d.editor,
                str(d.attempts),
                str(d.first_contact),
                str(d.held),
                str(d.changed),
                str(d.sent),
            ]
            for d in draft_rows
        ]
        table(["editor", "attempts", "at first contact", "held", "draft changed", "sent"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100, help="per editor, through the desk")
    parser.add_argument("--display", type=int, default=None, help="X display number to try first")
    parser.add_argument("--quick", action="store_true", help="10 messages per editor")
    parser.add_argument("--editors", nargs="+", choices=EDITORS, help="only these editors")
    parser.add_argument("--skip-probes", action="store_true", help="only the messages")
    parser.add_argument("--busy", type=int, default=0, help="messages to each busy pane")
    parser.add_argument(
        "--busy-processes",
        type=int,
        default=0,
        help="messages to each busy pane, each from a `cellphone send` process of its own",
    )
    parser.add_argument(
        "--now-and-then",
        type=int,
        default=0,
        help="messages to the five panes at once that take every third Enter for nothing",
    )
    parser.add_argument(
        "--now-and-then-processes",
        type=int,
        default=0,
        help="the same, each from a `cellphone send` process of its own",
    )
    parser.add_argument("--drafts", type=int, default=0, help="attempts over a draft, per editor")
    args = parser.parse_args()
    count = 10 if args.quick else args.messages
    screen_log = logging.getLogger("messaging.screen.gui")
    screen_log.setLevel(logging.DEBUG)
    screen_log.addHandler(STEP_RECORDS)
    with tempfile.TemporaryDirectory(prefix="cellphone-bench-") as folder:
        load_before = os.getloadavg()[0]
        probed, timed, busy, intermittent, draft_rows, where = run(
            count,
            args.display,
            Path(folder),
            args.editors,
            args.skip_probes,
            args.busy,
            args.drafts,
            args.busy_processes,
            args.now_and_then,
            args.now_and_then_processes,
        )
    where += f"; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    report(probed, timed, busy, intermittent, draft_rows, where, count)


if __name__ == "__main__":
    main()
