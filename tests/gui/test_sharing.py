"""The desk sharing the screen with the person at it, on the shared three-monitor display with
openbox and real Chromium chat pages: a draft in a chat input is never typed over nor
submitted, typing waits while the operator uses mouse or keyboard, and pointer and keyboard
focus go back where they were.

The operator is played by ``xdotool``, another program sending input through the X server
(XTEST, as pyautogui does for the desk): the desk must tell that input from its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agents import Agent
from config import Home, Settings, load_settings
from coordinates import Point
from coordinates.virtual_display import VirtualDisplay
from messaging.deliver import DraftPresent, Job
from messaging.model import DeliveryMethod, DeliveryState, Message, Priority
from messaging.pause import WaitNote
from messaging.render import render
from messaging.runtime import Runtime, open_runtime
from messaging.screen.apps import ChromiumPane, ChromiumPanes
from messaging.screen.calibration import record_empty_look
from messaging.screen.gui import GuiDeliverer
from messaging.screen.look import EmptyLook
from messaging.screen.x11 import X11
from tests.conftest import inbox_files, make_home

pytestmark = [pytest.mark.display, pytest.mark.slow]

PLAIN = ChromiumPane("Agent-1", 640, 700)
RICH = ChromiumPane("Agent-2", 2880, 1500, kind="contenteditable")
EDITOR = ChromiumPane("Editor", 1000, 1700, title="Editor — the operator's own window")
FIRST_TEXT = "[C2A] Captain → you\nThe first message after calibrating."
QUICK = {
    "operator_idle_s": 0.3,
    "draft_retry_s": 0.2,
    "draft_hold_max_s": 60,
    "operator_wait_max_s": 60,
}


@pytest.fixture(scope="module")
def browsers(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChromiumPanes]:
    panes = [PLAIN, RICH, EDITOR]
    with ChromiumPanes(panes, x_display.name, tmp_path_factory.mktemp("chromium")) as apps:
        yield apps


@pytest.fixture
def home(tmp_path: Path, browsers: ChromiumPanes) -> Home:
    points = browsers.pane_points()
    agents = {
        agent_id: {"chat_input_coordinates": list(points[agent_id]), "active": True}
        for agent_id in (PLAIN.agent_id, RICH.agent_id)
    }
    return make_home(tmp_path / "home", {"agents": agents})


def operator(display: VirtualDisplay, *args: str) -> str:
    """What the operator does, through xdotool."""
    done = subprocess.run(
        ["xdotool", *args], env=display.env(), capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def pointer(display: VirtualDisplay) -> tuple[int, int]:
    shell = dict(
        line.split("=", 1) for line in operator(display, "getmouselocation", "--shell").split()
    )
    return int(shell["X"]), int(shell["Y"])


def focused(display: VirtualDisplay) -> str:
    return operator(display, "getwindowfocus", "getwindowname")


def type_draft(display: VirtualDisplay, browsers: ChromiumPanes, pane: ChromiumPane, text: str):
    """The operator clicks into a chat input and types ``text`` without sending it. The
    click is made again until the pane's window has the keyboard focus (as a person looks
    before typing): panes just started are at times still being placed."""
    x, y = browsers.pane_points()[pane.agent_id]
    deadline = time.monotonic() + 10
    while True:
        operator(display, "mousemove", str(x), str(y), "click", "1")
        has = focused(display)
        if has == pane.window_title:
            break
        assert time.monotonic() < deadline, f"a click at {(x, y)} gave the focus to {has!r}"
        time.sleep(0.2)
    operator(display, "type", "--delay", "15", text)
    try:
        browsers.wait_for_draft(pane.agent_id, text)
    except TimeoutError as exc:
        where = f"focus on {focused(display)!r}, pointer at {pointer(display)}"
        raise AssertionError(f"{exc}; {where}") from None
    drawn(display, x, y)


def drawn(display: VirtualDisplay, x: int, y: int, timeout: float = 5.0) -> None:
    """Until the input around ``(x, y)`` shows what its page holds: a busy browser draws the
    last letters typed some frames after its page took them (a caret may still blink)."""
    x11 = X11(display.name)
    try:
        region = (x - 300, y - 80, 600, 160)
        last, deadline = x11.grab(*region), time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = x11.grab(*region)
            if now == last:
                return
            last = now
    finally:
        x11.close()


def work_in_editor(display: VirtualDisplay, browsers: ChromiumPanes) -> tuple[int, int]:
    """The operator clicks into their own window and leaves the pointer beside its input."""
    x, y = browsers.pane_points()[EDITOR.agent_id]
    operator(display, "mousemove", str(x), str(y), "click", "1")
    operator(display, "mousemove", str(x - 150), str(y - 40))
    assert focused(display) == EDITOR.window_title
    return x - 150, y - 40


@pytest.fixture
async def desk(home: Home, browsers: ChromiumPanes) -> AsyncIterator[Runtime]:
    async with started(home, browsers) as rt:
        yield rt


def started(home: Home, browsers: ChromiumPanes, **gui: object):
    browsers.clear()
    settings = load_settings(home, gui={**QUICK, **gui})
    return _running(home, settings)


class _running:
    """A runtime with its own GUI deliverer, closed after."""

    def __init__(self, home: Home, settings: Settings) -> None:
        self.home, self.settings = home, settings
        self.screen = GuiDeliverer(settings.gui)
        self._context = open_runtime(home, settings, self.screen)

    async def __aenter__(self) -> Runtime:
        return await self._context.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self._context.__aexit__(*exc)
        self.screen.close()


async def outcome(rt: Runtime, message: Message, agent_id: str, timeout: float = 30) -> object:
    """The delivery's outcome once it reached the agent one way or the other (a delivery held
    by a draft stays queued meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        got = (await rt.desk.wait_for(message.id, max(0.1, deadline - time.monotonic())))[agent_id]
        if got.state in (DeliveryState.DELIVERED, DeliveryState.FALLBACK):
            return got
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.05)


async def until(check, timeout: float = 15.0) -> None:
    """Poll ``check`` until it is true (a bounded wait for a condition)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def typed(rt: Runtime, message: Message, agent_id: str) -> str:
    return render(message, agent_id, rt.settings.messaging.footer)


async def first_message(rt: Runtime, agent_id: str) -> Message:
    """A verified delivery: the desk learns how the input looks empty."""
    message = (await rt.service.send([agent_id], f"hello {agent_id}")).message
    got = await outcome(rt, message, agent_id)
    assert (got.state, got.verified) == (DeliveryState.DELIVERED, True), got  # type: ignore[attr-defined]
    return message


@pytest.mark.parametrize("pane", [PLAIN, RICH], ids=["textarea", "contenteditable"])
async def test_a_draft_is_neither_submitted_nor_changed_until_the_operator_sends_it(
    desk: Runtime, browsers: ChromiumPanes, x_display: VirtualDisplay, pane: ChromiumPane
) -> None:
    agent_id = pane.agent_id
    hello = await first_message(desk, agent_id)
    draft = "half a thought, not finished"
    type_draft(x_display, browsers, pane, draft)

    message = (await desk.service.send([agent_id], "while you type")).message
    await until(lambda: bool(_held_reason(desk, message, agent_id)))
    held = _held_reason(desk, message, agent_id)
    assert "holds a draft" in held and agent_id in held
    await asyncio.sleep(1.0)  # several retries while the draft stays
    assert browsers.draft(agent_id) == draft
    assert browsers.texts(agent_id) == [typed(desk, hello, agent_id)]

    operator(x_display, "key", "Return")  # the operator sends the draft
    got = await outcome(desk, message, agent_id)
    assert (got.state, got.method, got.verified) == (  # type: ignore[attr-defined]
        DeliveryState.DELIVERED,
        DeliveryMethod.GUI,
        True,
    )
    browsers.wait_for(3)
    assert browsers.texts(agent_id) == [
        typed(desk, hello, agent_id),
        draft,
        typed(desk, message, agent_id),
    ]


def _held_reason(rt: Runtime, message: Message, agent_id: str) -> str:
    """The last error of a delivery, read from the store file."""
    with sqlite3.connect(rt.home.database) as db:
        row = db.execute(
            "SELECT d.last_error FROM deliveries d JOIN messages m ON m.seq = d.message_seq"
            " WHERE m.id = ? AND d.agent = ?",
            (message.id, agent_id),
        ).fetchone()
    return (row[0] or "") if row else ""


async def test_a_cleared_draft_lets_the_message_through(
    desk: Runtime, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    hello = await first_message(desk, PLAIN.agent_id)
    type_draft(x_display, browsers, PLAIN, "never mind")
    message = (await desk.service.send([PLAIN.agent_id], "after the clearing")).message
    await until(lambda: "holds a draft" in _held_reason(desk, message, PLAIN.agent_id))
    operator(x_display, "key", "ctrl+a", "BackSpace")  # the operator throws the draft away
    got = await outcome(desk, message, PLAIN.agent_id)
    assert got.state is DeliveryState.DELIVERED  # type: ignore[attr-defined]
    browsers.wait_for(2)
    assert browsers.texts(PLAIN.agent_id) == [
        typed(desk, hello, PLAIN.agent_id),
        typed(desk, message, PLAIN.agent_id),
    ]


async def test_a_draft_that_stays_sends_the_message_to_the_inbox_after_the_hold_limit(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    async with started(home, browsers, draft_hold_max_s=1.0) as rt:
        await first_message(rt, RICH.agent_id)
        type_draft(x_display, browsers, RICH, "my own words")
        message = (await rt.service.send([RICH.agent_id], "not over your words")).message
        got = await outcome(rt, message, RICH.agent_id)
    assert got.state is DeliveryState.FALLBACK  # type: ignore[attr-defined]
    assert got.method is DeliveryMethod.INBOX  # type: ignore[attr-defined]
    assert "holds a draft" in got.reason and "gui.draft_hold_max_s" in got.reason  # type: ignore[attr-defined]
    assert browsers.draft(RICH.agent_id) == "my own words"
    letters = [f.read_text(encoding="utf-8") for f in inbox_files(home, RICH.agent_id)]
    assert any("not over your words" in text and "holds a draft" in text for text in letters)
    operator(x_display, "key", "ctrl+a", "BackSpace")
    await asyncio.to_thread(browsers.wait_for_draft, RICH.agent_id, "")


def test_fifty_attempts_with_a_draft_present_leave_it_as_it_was(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    """Straight at the deliverer: every attempt sees the draft and types nothing."""
    browsers.clear()
    screen = GuiDeliverer(load_settings(home).gui)
    points = browsers.pane_points()
    agents = {
        pane.agent_id: Agent(pane.agent_id, "", True, Point(*points[pane.agent_id]), None)
        for pane in (PLAIN, RICH)
    }
    learn = "[C2A] Captain → you\nA first message: the desk learns how the input looks empty."
    try:
        for agent in agents.values():
            screen.deliver_now(Job(Message("Captain", (agent.agent_id,), "x"), agent, learn))
        drafts = {PLAIN.agent_id: "k", RICH.agent_id: "two words"}
        for pane in (PLAIN, RICH):
            type_draft(x_display, browsers, pane, drafts[pane.agent_id])
        refused = 0
        for attempt in range(50):
            agent = list(agents.values())[attempt % 2]
            job = Job(Message("Captain", (agent.agent_id,), "y"), agent, f"attempt {attempt}")
            with pytest.raises(DraftPresent, match="holds a draft"):
                screen.deliver_now(job)
            refused += 1
        assert refused == 50
        browsers.wait_for(2)
        assert [r.text for r in browsers.received()] == [learn, learn]
        for pane in (PLAIN, RICH):
            assert browsers.draft(pane.agent_id) == drafts[pane.agent_id]
    finally:
        screen.close()
        for pane in (PLAIN, RICH):
            x, y = points[pane.agent_id]
            operator(x_display, "mousemove", str(x), str(y), "click", "1", "key", "ctrl+a")
            operator(x_display, "key", "BackSpace")


class Fidgeting:
    """The operator pressing shift every 50 ms (input that changes nothing on screen)."""

    def __init__(self, display: VirtualDisplay) -> None:
        self.display = display
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            operator(self.display, "key", "shift")

    def __enter__(self) -> Fidgeting:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


async def test_the_operators_hands_hold_typing_and_releasing_them_lets_messages_go_in_order(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    async with started(home, browsers, operator_idle_s=0.5) as rt:
        with Fidgeting(x_display):
            await asyncio.sleep(0.3)
            sent = [
                (await rt.service.send([PLAIN.agent_id], f"in order {n}")).message for n in range(3)
            ]
            await until(lambda: rt.desk.waiting is not None)
            assert rt.desk.waiting is not None
            assert rt.desk.waiting.startswith("waiting for the operator")
            assert (WaitNote.of(home).reason() or "").startswith("waiting for the operator")
            status = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "cellphone", "status", "--home", str(home.root)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert status.returncode == 0, status.stderr
            assert "desk: waiting for the operator" in status.stdout
            await asyncio.sleep(1.0)
            assert browsers.received() == []
        for message in sent:
            got = await outcome(rt, message, PLAIN.agent_id)
            assert got.state is DeliveryState.DELIVERED  # type: ignore[attr-defined]
        assert rt.desk.waiting is None
        assert WaitNote.of(home).reason() is None
        browsers.wait_for(3)
        assert browsers.texts(PLAIN.agent_id) == [typed(rt, m, PLAIN.agent_id) for m in sent]


async def test_a_critical_message_does_not_wait_for_the_operator(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    rest = 3.0
    async with started(home, browsers, operator_idle_s=rest) as rt:
        operator(x_display, "key", "shift")
        touched = time.monotonic()
        critical = await rt.service.send(
            [PLAIN.agent_id], "the build is on fire", priority=Priority.CRITICAL
        )
        got = await outcome(rt, critical.message, PLAIN.agent_id)
        # typed before the operator's hands had rested: it did not wait for them
        assert time.monotonic() - touched < rest
        assert got.state is DeliveryState.DELIVERED  # type: ignore[attr-defined]
        normal = (await rt.service.send([PLAIN.agent_id], "this one waits")).message
        await until(lambda: rt.desk.waiting is not None, timeout=rest)
        got = await outcome(rt, normal, PLAIN.agent_id)
        assert time.monotonic() - touched >= rest
        assert got.state is DeliveryState.DELIVERED  # type: ignore[attr-defined]


async def test_an_operator_who_keeps_working_gets_the_message_in_the_inbox(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    async with started(home, browsers, operator_idle_s=0.5, operator_wait_max_s=1.0) as rt:
        with Fidgeting(x_display):
            await asyncio.sleep(0.3)
            message = (await rt.service.send([PLAIN.agent_id], "later is fine")).message
            got = await outcome(rt, message, PLAIN.agent_id)
    assert got.state is DeliveryState.FALLBACK  # type: ignore[attr-defined]
    assert "the operator kept using mouse or keyboard" in got.reason  # type: ignore[attr-defined]
    assert browsers.received() == []


async def test_pointer_and_focus_are_the_operators_again_after_a_broadcast(
    desk: Runtime, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    for round_ in range(3):
        where = work_in_editor(x_display, browsers)
        await asyncio.sleep(0.4)  # the operator's hands rest
        message = (await desk.service.broadcast(f"round {round_}")).message
        outcomes = await desk.desk.wait_for(message.id, 30)
        assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
        await until(lambda: focused(x_display) == EDITOR.window_title, timeout=5)
        assert pointer(x_display) == where
    browsers.wait_for(6)
    assert len(browsers.texts(PLAIN.agent_id)) == len(browsers.texts(RICH.agent_id)) == 3


def test_a_pointer_the_operator_moved_meanwhile_stays_where_they_put_it(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    browsers.clear()
    work_in_editor(x_display, browsers)
    screen = GuiDeliverer(load_settings(home).gui)
    point = Point(*browsers.pane_points()[PLAIN.agent_id])
    agent = Agent(PLAIN.agent_id, "", True, point, None)
    try:
        text = "[C2A] Captain → Agent-1\nThe operator takes the mouse after this one."
        screen.deliver_now(Job(Message("Captain", (agent.agent_id,), "x"), agent, text))
        operator(x_display, "mousemove", "300", "300")  # the operator takes the mouse
        screen.give_back()
    finally:
        screen.close()
    assert pointer(x_display) == (300, 300)
    assert focused(x_display) == PLAIN.window_title  # focus stays where they now work


def test_the_next_process_knows_the_empty_look_and_that_the_last_typing_was_the_desks(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay, tmp_path: Path
) -> None:
    """Two `cellphone send` in a row type from two processes: the second must neither take
    the first one's keys for the operator's (and wait) nor miss a draft."""
    browsers.clear()
    point = Point(*browsers.pane_points()[PLAIN.agent_id])
    agent = Agent(PLAIN.agent_id, "", True, point, None)
    text = "[C2A] Captain → Agent-1\nFrom the first process."
    first = GuiDeliverer(load_settings(home).gui)
    first.remember_looks_in(tmp_path / "looks")
    started = time.monotonic()
    try:
        first.deliver_now(Job(Message("Captain", (agent.agent_id,), "x"), agent, text))
        first.give_back()
    finally:
        first.close()
    second = GuiDeliverer(load_settings(home).gui)
    second.remember_looks_in(tmp_path / "looks")
    job = Job(Message("Captain", (agent.agent_id,), "y"), agent, "from the second")
    try:
        idle = second.operator_idle_s()
        assert idle is not None and idle > time.monotonic() - started
        assert second.draft(job) is None
        type_draft(x_display, browsers, PLAIN, "operator here")
        assert (second.operator_idle_s() or 0) < 1.0  # that was the operator
        # its look shows text: the delivery asks the input, finds the draft, types nothing
        with pytest.raises(DraftPresent, match=r"holds a draft (of 13 characters )?the desk"):
            second.deliver_now(job)
        draft = second.draft(job)  # and holds it from its look alone from then on
        assert draft is not None and "holds a draft" in draft.reason
        assert browsers.draft(PLAIN.agent_id) == "operator here"
    finally:
        second.close()
        operator(x_display, "key", "ctrl+a", "BackSpace")
    assert browsers.draft(PLAIN.agent_id) == ""


def test_a_look_recorded_at_calibration_sees_a_draft_before_the_first_delivery(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay, tmp_path: Path
) -> None:
    browsers.clear()
    point = Point(*browsers.pane_points()[RICH.agent_id])
    operator(x_display, "mousemove", str(point.x), str(point.y), "click", "1")  # calibrating
    looks = tmp_path / "looks"
    path = record_empty_look(looks, RICH.agent_id, False, point, (600, 160), x_display.name)
    recorded = EmptyLook.load(path)
    assert recorded is not None and recorded.confirmed is False and recorded.inside is not None
    screen = GuiDeliverer(load_settings(home).gui)
    screen.remember_looks_in(looks)
    agent = Agent(RICH.agent_id, "", True, point, None)
    job = Job(Message("Captain", (agent.agent_id,), "x"), agent, FIRST_TEXT)
    try:
        assert screen.draft(job) is None
        type_draft(x_display, browsers, RICH, "typed before any delivery")
        # the look shows text: the delivery asks the input (select-all) before typing
        assert screen.draft(job) is None
        with pytest.raises(DraftPresent, match=r"holds a draft (of 25 characters )?the desk"):
            screen.deliver_now(job)
        browsers.wait_for_draft(RICH.agent_id, "typed before any delivery")
        # a draft the input answered for is held from its look alone, without a click
        draft = screen.draft(job)
        assert draft is not None and "holds a draft" in draft.reason
        operator(x_display, "mousemove", str(point.x), str(point.y), "click", "1")
        operator(x_display, "key", "ctrl+a", "BackSpace")
        browsers.wait_for_draft(RICH.agent_id, "")
        assert screen.draft(job) is None
        assert screen.deliver_now(job).verified is True
    finally:
        screen.close()
    confirmed = EmptyLook.load(path)
    assert confirmed is not None and confirmed.confirmed is True


async def test_a_look_recorded_over_text_does_not_hold_messages_to_an_empty_input(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    """The operator calibrated while the input held text: the look is wrong. The empty
    input looks like a draft to it, so the desk asks the input (select-all), finds it empty,
    keeps that look as an empty one too, and types; so does the next message."""
    point = Point(*browsers.pane_points()[PLAIN.agent_id])
    type_draft(x_display, browsers, PLAIN, "left over while calibrating")
    path = record_empty_look(
        home.var_dir / "looks", PLAIN.agent_id, False, point, (600, 160), x_display.name
    )
    operator(x_display, "key", "ctrl+a", "BackSpace")
    await asyncio.to_thread(browsers.wait_for_draft, PLAIN.agent_id, "")
    async with started(home, browsers, draft_hold_max_s=60) as rt:
        first = (await rt.service.send([PLAIN.agent_id], "not held by a wrong look")).message
        got = await outcome(rt, first, PLAIN.agent_id)
        assert (got.state, got.method) == (DeliveryState.DELIVERED, DeliveryMethod.GUI)  # type: ignore[attr-defined]
        second = (await rt.service.send([PLAIN.agent_id], "typed after it")).message
        got = await outcome(rt, second, PLAIN.agent_id)
        assert (got.state, got.method) == (DeliveryState.DELIVERED, DeliveryMethod.GUI)  # type: ignore[attr-defined]
    browsers.wait_for(2)
    assert browsers.texts(PLAIN.agent_id) == [
        typed(rt, first, PLAIN.agent_id),
        typed(rt, second, PLAIN.agent_id),
    ]
    look = EmptyLook.load(path)
    assert look is not None and look.probed
