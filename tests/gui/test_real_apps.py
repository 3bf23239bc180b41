"""The desk typing into the programs users run, on the shared three-monitor display with
openbox: Chromium chat pages (a textarea and a contenteditable rich input, the engine of
Cursor, VS Code and Windsurf), a page that ignores Enter like a busy agent, and a real
terminal emulator running a line reader, like an agent CLI. Each outcome is checked
against what the program really received."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agents import Agent
from config import GuiSettings, Home, Settings, load_settings
from coordinates import Point, Typing
from coordinates.virtual_display import VirtualDisplay
from messaging.deliver import Job, NotDeliverable, Pressed, Typed
from messaging.model import DeliveryMethod, DeliveryState, Message
from messaging.render import render
from messaging.runtime import Runtime, open_runtime
from messaging.screen.apps import ChromiumPane, ChromiumPanes, TerminalPane, TerminalPanes
from messaging.screen.gui import GuiDeliverer
from tests.conftest import inbox_files, make_home
from tests.gui.display import typed_copies
from tests.gui.test_sharing import operator

pytestmark = [pytest.mark.display, pytest.mark.slow]

# On both kinds of monitor: the 1280x1024 one at 0,0 and a 1920x1080 one at 1920,1024.
PLAIN = ChromiumPane("Agent-1", 640, 700, title="Agent-1 — Cursor chat")
RICH = ChromiumPane("Agent-2", 2880, 1500, kind="contenteditable")
BUSY = ChromiumPane("Agent-3", 700, 1800, kind="ignores-enter")
UNCHECKED = ChromiumPane("Agent-5", 3530, 1500, title="Agent-5 — no checks", width=600)
TERMINAL = TerminalPane("Agent-4", 1400, 1400, columns=72, rows=14)
LINE = "Grüße, 世界! ✓ «quoted» ∑ ½ naïve façade 🚀\n"


def text_of(length: int, seed: int) -> str:
    """``length`` characters of unicode with new lines, blank lines and indentation."""
    body = "".join(f"[{seed}:{i}] {LINE}" + ("\n  indented\t→\n" if i % 7 == 0 else "")
                   for i in range(length // 20 + 1))  # fmt: skip
    return body[: length - 1] + "."


@pytest.fixture(scope="module")
def browsers(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChromiumPanes]:
    panes = [PLAIN, RICH, BUSY, UNCHECKED]
    with ChromiumPanes(panes, x_display.name, tmp_path_factory.mktemp("chromium")) as apps:
        yield apps


@pytest.fixture(scope="module")
def terminal(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TerminalPanes]:
    with TerminalPanes([TERMINAL], x_display.name, tmp_path_factory.mktemp("term")) as apps:
        yield apps


@pytest.fixture
def home(tmp_path: Path, browsers: ChromiumPanes, terminal: TerminalPanes) -> Home:
    """Coordinates where the programs really put their inputs, the terminal pasting with
    ctrl+shift+v, and one agent whose deliveries are not checked on screen."""
    points = {**browsers.pane_points(), **terminal.pane_points()}
    agents: dict[str, dict] = {
        agent_id: {"chat_input_coordinates": list(point), "active": True}
        for agent_id, point in points.items()
    }
    agents["Agent-4"]["paste_keys"] = "ctrl+shift+v"
    agents["Agent-5"]["verify"] = False
    return make_home(tmp_path / "home", {"agents": agents})


@pytest.fixture
async def desk(
    home: Home, browsers: ChromiumPanes, terminal: TerminalPanes
) -> AsyncIterator[Runtime]:
    browsers.clear()
    terminal.clear()
    settings = load_settings(home)
    screen = GuiDeliverer(settings.gui)
    async with open_runtime(home, settings, screen) as rt:
        yield rt
    screen.close()


def typed(message: Message, agent_id: str, settings: Settings) -> str:
    return render(message, agent_id, settings.messaging.footer)


async def send(desk: Runtime, agent_id: str, body: str) -> tuple[Message, object]:
    submission = await desk.service.send([agent_id], body)
    outcomes = await desk.desk.wait_for(submission.message.id, 30)
    return submission.message, outcomes[agent_id]


async def test_chromium_inputs_receive_exactly_each_text_on_both_monitors_verified(
    desk: Runtime, browsers: ChromiumPanes
) -> None:
    sent: dict[str, list[str]] = {PLAIN.agent_id: [], RICH.agent_id: []}
    for length in (200, 2_000, 10_000):
        for agent_id in sent:
            message, outcome = await send(desk, agent_id, text_of(length, length))
            assert outcome.state is DeliveryState.DELIVERED, outcome  # type: ignore[attr-defined]
            assert outcome.method is DeliveryMethod.GUI  # type: ignore[attr-defined]
            assert outcome.verified is True  # type: ignore[attr-defined]
            sent[agent_id].append(typed(message, agent_id, desk.settings))
    browsers.wait_for(6, timeout=10)
    for agent_id, texts in sent.items():
        assert browsers.texts(agent_id) == texts
    assert typed_copies(desk.home, PLAIN.agent_id) == ["gui, verified on screen"] * 3


async def test_fifty_messages_in_a_row_keep_the_browsers_paste_working(
    desk: Runtime, browsers: ChromiumPanes
) -> None:
    expected: dict[str, list[str]] = {PLAIN.agent_id: [], RICH.agent_id: []}
    for index in range(50):
        agent_id = PLAIN.agent_id if index % 2 else RICH.agent_id
        body = text_of((200, 2_000, 10_000)[index % 3], index)
        message, outcome = await send(desk, agent_id, body)
        assert (outcome.state, outcome.verified) == (DeliveryState.DELIVERED, True), (  # type: ignore[attr-defined]
            index,
            outcome,
        )
        expected[agent_id].append(typed(message, agent_id, desk.settings))
    browsers.wait_for(50, timeout=10)
    for agent_id, texts in expected.items():
        assert browsers.texts(agent_id) == texts  # back to back clicks: no double click


async def test_a_pane_that_ignores_enter_is_reported_typed_not_submitted_never_delivered(
    desk: Runtime, browsers: ChromiumPanes
) -> None:
    for body in ("first, while the agent works", "second, while it still works"):
        message, outcome = await send(desk, BUSY.agent_id, body)
        assert outcome.state is DeliveryState.FALLBACK  # type: ignore[attr-defined]
        assert outcome.reason.startswith("typed but not submitted: the text stays in the chat")  # type: ignore[attr-defined]
        # the text a failed attempt left is cleared first: the input holds only the last
        browsers.wait_for_draft(BUSY.agent_id, typed(message, BUSY.agent_id, desk.settings))
    assert browsers.texts(BUSY.agent_id) == []
    letters = inbox_files(desk.home, BUSY.agent_id)
    assert len(letters) == 2
    assert "typed but not submitted" in letters[1].read_text(encoding="utf-8")


async def test_an_agent_without_verification_is_reported_unverified(
    desk: Runtime, browsers: ChromiumPanes
) -> None:
    message, outcome = await send(desk, UNCHECKED.agent_id, text_of(300, 5))
    assert outcome.state is DeliveryState.DELIVERED  # type: ignore[attr-defined]
    assert outcome.verified is False  # type: ignore[attr-defined]
    assert "unverified" in outcome.summary  # type: ignore[attr-defined]
    browsers.wait_for(1)
    assert browsers.texts(UNCHECKED.agent_id) == [typed(message, "Agent-5", desk.settings)]


async def test_a_terminal_pasting_with_ctrl_shift_v_receives_exactly_each_text(
    desk: Runtime, terminal: TerminalPanes
) -> None:
    expected = []
    for length in (200, 2_000, 10_000):
        message, outcome = await send(desk, TERMINAL.agent_id, text_of(length, length))
        assert (outcome.state, outcome.verified) == (DeliveryState.DELIVERED, True), outcome  # type: ignore[attr-defined]
        expected.append(typed(message, TERMINAL.agent_id, desk.settings))
    terminal.wait_for(3, timeout=10)
    assert terminal.texts(TERMINAL.agent_id) == expected


def test_a_terminal_input_left_holding_text_is_emptied_with_its_clear_keys(
    terminal: TerminalPanes,
) -> None:
    terminal.clear()
    screen = GuiDeliverer(GuiSettings())
    x, y = terminal.pane_points()[TERMINAL.agent_id]
    keys = Typing(
        paste_keys=("ctrl", "shift", "v"), clear_keys=(("ctrl", "c"),), verify_region=(600, 40)
    )
    # the app takes no F12 (like a busy agent, Enter): the text stays in its input
    stuck = Agent(
        "Agent-4", "", True, Point(x, y), None, typing=replace(keys, submit_keys=("f12",))
    )
    left = "a first text that stays in the input\nok"
    with pytest.raises(NotDeliverable, match="typed but not submitted"):
        screen.deliver_now(Job(Message("Captain", ("Agent-4",), left), stuck, left))
    terminal.wait_for_draft(TERMINAL.agent_id, left)
    seeing = replace(stuck, typing=keys)
    text = "the second text, alone in the input ✓"
    assert screen.deliver_now(Job(Message("Captain", ("Agent-4",), text), seeing, text)).verified
    screen.close()
    terminal.wait_for(1)
    assert terminal.texts(TERMINAL.agent_id) == [text]


def test_submissions_left_to_watch_while_the_next_pane_is_typed_into_are_told_truly(
    browsers: ChromiumPanes,
) -> None:
    """In a batch, each pane's submission is watched while the desk types into the next
    pane, whose click takes the focus away from it. Seen so, without the focus: the pane
    whose app took no submit key (Shift here, as a busy agent's page takes no Enter) still
    holds its text and is reported not submitted; the other is verified. The text left is
    cleared before the next paste into that input."""
    browsers.clear()
    points = browsers.pane_points()

    def agent_of(pane: ChromiumPane, **typing: object) -> Agent:
        x, y = points[pane.agent_id]
        return Agent(pane.agent_id, "", True, Point(x, y), None, typing=replace(Typing(), **typing))

    def job(agent: Agent, text: str) -> Job:
        return Job(Message("Captain", (agent.agent_id,), text), agent, text)

    plain, rich = agent_of(PLAIN), agent_of(RICH)
    stuck = agent_of(PLAIN, submit_keys=("shift",))  # (F12 would open Chromium's DevTools)
    sent: dict[str, list[str]] = {PLAIN.agent_id: [], RICH.agent_id: []}
    screen = GuiDeliverer(GuiSettings())
    try:
        for turn in range(2):  # each input seen empty and sent: the desk knows its look
            for agent in (plain, rich):
                text = f"turn {turn} to {agent.agent_id}"
                assert screen.deliver_now(job(agent, text)).verified
                sent[agent.agent_id].append(text)
        left = "a text that stays in the input ✓"
        first = screen.deliver_going_on_now(job(stuck, left))
        assert isinstance(first, Pressed)
        text = "sent while the first was watched ✓"
        second = screen.deliver_going_on_now(job(rich, text))
        assert isinstance(second, Pressed)
        sent[RICH.agent_id].append(text)
        stayed, went = screen.confirm_now([first, second])
        assert isinstance(stayed, NotDeliverable), stayed
        assert stayed.reason.startswith("typed but not submitted: the text stays"), stayed.reason
        assert went == Typed(verified=True)
        browsers.wait_for_draft(PLAIN.agent_id, left)
        last = "after the text left was cleared ✓"
        assert screen.deliver_now(job(plain, last)).verified
        sent[PLAIN.agent_id].append(last)
    finally:
        screen.close()
    browsers.wait_for(sum(len(texts) for texts in sent.values()))
    for agent_id, texts in sent.items():
        assert browsers.texts(agent_id) == texts, agent_id


def test_messages_moments_apart_to_xterm_make_no_multiple_click(
    x_display: VirtualDisplay, terminal: TerminalPanes, tmp_path: Path
) -> None:
    """xterm counts clicks by time alone: clicks into it within its double-click interval,
    wherever they land, select a word, then the whole input line (which then looks like a
    draft, and every later message was held). Messages moments apart, the focus given back
    to another window after each as the desk does for the operator: each arrives."""
    pane = TerminalPane("Agent-6", 640, 250, columns=72, rows=8, terminal="xterm")
    with TerminalPanes([pane], x_display.name, tmp_path / "xterm") as xterm:
        x, y = xterm.pane_points()[pane.agent_id]
        keys = Typing(
            paste_keys=("shift", "insert"), clear_keys=(("ctrl", "c"),), verify_region=(600, 40)
        )
        agent = Agent(pane.agent_id, "", True, Point(x, y), None, typing=keys)
        screen = GuiDeliverer(GuiSettings())
        # the operator works in the other terminal: the desk gives the focus back there
        operator(x_display, "search", "--name", TERMINAL.window_title, "windowfocus", "--sync")
        texts = [f"message {n}, moments after the one before" for n in range(8)]
        try:
            for text in texts:
                typed = screen.deliver_now(
                    Job(Message("Captain", (pane.agent_id,), text), agent, text)
                )
                assert typed.verified, text
                screen.give_back()
        finally:
            screen.close()
        xterm.wait_for(len(texts))
        assert xterm.texts(pane.agent_id) == texts


async def test_a_text_too_large_for_one_clipboard_answer_arrives_whole(
    desk: Runtime, browsers: ChromiumPanes
) -> None:
    body = ("🚀🤖🧪✓" * 5_000)[:19_000]  # over 64 KB in UTF-8: sent in pieces (INCR)
    assert len(body.encode("utf-8")) > 64 * 1024
    message, outcome = await send(desk, PLAIN.agent_id, body)
    assert (outcome.state, outcome.verified) == (DeliveryState.DELIVERED, True), outcome  # type: ignore[attr-defined]
    browsers.wait_for(1, timeout=10)
    assert browsers.texts(PLAIN.agent_id) == [typed(message, PLAIN.agent_id, desk.settings)]
