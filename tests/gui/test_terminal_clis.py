"""The desk typing into the real agent CLIs (Claude Code, Codex CLI, Gemini CLI, Aider) in
real terminals (xfce4-terminal pasting the clipboard on Ctrl+Shift+V, xterm the primary
selection on Shift+Insert) on the shared display, each CLI talking to a double of its model
API: every message reported "delivered via gui, verified" reached the model exactly once,
exactly as typed, and what cannot work is reported, never delivered.

Each CLI starts once per terminal for the module (in a 2x2 grid of windows per monitor);
the messages carry what trips CLIs up: paragraphs, 6,000 characters, a line starting with
``/``, a tab.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agents import Agent
from config import GuiSettings, Home, load_settings
from coordinates import Point, Typing
from coordinates.virtual_display import VirtualDisplay
from messaging.deliver import Job, NotDeliverable
from messaging.model import DeliveryMethod, DeliveryState, Message
from messaging.render import render
from messaging.runtime import Runtime, open_runtime
from messaging.screen.apps import TerminalPane, TerminalPanes
from messaging.screen.gui import CLEAR_GAP_S, GuiDeliverer
from messaging.screen.look import Picture, Rect
from messaging.screen.sharing import LEFT_TEXT_FILE, LeftText
from messaging.screen.terminals import TerminalKind
from messaging.screen.x11 import X11
from tests.agent_clis import aider, claude, codex, gemini
from tests.agent_clis.model_api.anthropic import AnthropicDouble
from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.model_api.chat_completions import ChatCompletionsDouble
from tests.agent_clis.model_api.gemini import GeminiDouble
from tests.agent_clis.model_api.responses import ResponsesDouble
from tests.agent_clis.recipe import Recipe
from tests.conftest import make_home
from tests.gui.test_sharing import operator

pytestmark = [pytest.mark.display, pytest.mark.slow]

ARRIVAL_S = 20.0  # how long a CLI may take to send a submitted prompt to its model
START_S = 90.0  # per window: a CLI's first start on a busy machine
REGION = (600, 40)  # the prompt line and half a row above and below
VERIFY_TIMEOUT_S = 4.0


@dataclass(frozen=True)
class Cli:
    name: str
    recipe: object  # the module with recipe(root, double) -> Recipe
    double: type[ModelApiDouble]
    ready: str  # what the CLI prints, in a terminal, once it waits for a prompt
    prompt_row: int  # rows above the terminal's last that hold its input line
    submit_after_s: float = 0.0  # measured: see the coordinates file's submit_after_s
    wait_for_prompt: bool = False  # takes a paste as typed lines while not at its prompt


CLIS = (
    Cli("claude", claude, AnthropicDouble, "shift+tab to cycle", 2),
    Cli("codex", codex, ResponsesDouble, "? for shortcuts", 3),
    # Gemini CLI takes an Enter within 40 ms of a paste as a new line, counted by a timer
    # of its own that runs late on a busy machine: 0.1 s after the text shows lost none in
    # 200 (100 of them with two CPU hogs running) once the desk waited for its prompt
    # before the paste (a prompt redrawn after the paste keys passed for the text showing)
    Cli("gemini", gemini, GeminiDouble, "Type your message", 4, submit_after_s=0.1),
    # Aider keeps 3 rows free below its prompt, and reads input only at its prompt
    Cli("aider", aider, ChatCompletionsDouble, "Repo-map", 3, wait_for_prompt=True),
)
PASTE_KEYS: dict[TerminalKind, str] = {"xfce4-terminal": "ctrl+shift+v", "xterm": "shift+insert"}
MONITOR: dict[TerminalKind, tuple[int, int]] = {"xfce4-terminal": (0, 1024), "xterm": (1920, 1024)}
BODIES = (
    "First paragraph of the task.\n\nSecond paragraph, after a blank line:\n- one\n- two",
    "/review the last change; a line that starts with a slash\nis not a command here",
    "columns:\tname\tvalue\nGrüße ✓ 🚀 naïve",
    "\n".join(f"line {i:03}: " + "lorem ipsum dolor sit amet " * 2 for i in range(108))[:6_000],
)


@dataclass
class Agents:
    """The CLIs of one terminal, their doubles, and where their prompts are."""

    terminal: TerminalKind
    panes: TerminalPanes
    doubles: dict[str, ModelApiDouble]

    def coordinates(self) -> dict[str, dict[str, object]]:
        """Each CLI's prompt line, the point far enough left that the region watched holds
        the prompt's sign (``>``, ``❯``, ``›``): a CLI busy answering shows none."""
        entries: dict[str, dict[str, object]] = {}
        for cli in CLIS:
            agent_id = agent_of(cli, self.terminal)
            prompt = self.panes.input_rect(agent_id)
            entries[agent_id] = {
                "chat_input_coordinates": [prompt.x + REGION[0] // 2, prompt.centre[1]],
                "active": True,
                "paste_keys": PASTE_KEYS[self.terminal],
                "clear_keys": ["ctrl+c"],
                "verify_region": list(REGION),
                "submit_after_s": cli.submit_after_s,
                "wait_for_prompt": cli.wait_for_prompt,
            }
        return entries


def agent_of(cli: Cli, terminal: TerminalKind) -> str:
    return f"{cli.name}-{'x' if terminal == 'xterm' else 'f'}"


def start_agents(
    terminal: TerminalKind, display: str, root: Path
) -> tuple[TerminalPanes, dict[str, ModelApiDouble]]:
    left, top = MONITOR[terminal]
    doubles: dict[str, ModelApiDouble] = {}
    panes = []
    for index, cli in enumerate(CLIS):
        agent_id = agent_of(cli, terminal)
        double = cli.double().start()
        doubles[agent_id] = double
        recipe: Recipe = cli.recipe.recipe(root / agent_id, double)  # type: ignore[attr-defined]
        x = left + 480 + 960 * (index % 2)
        y = top + 490 + 540 * (index // 2) - 19 * cli.prompt_row
        panes.append(
            TerminalPane(
                agent_id, x, y, columns=90, rows=24, command=recipe.shell_command(),
                ready=cli.ready, prompt_row=cli.prompt_row, terminal=terminal,
            )
        )  # fmt: skip
    apps = TerminalPanes(panes, display, root / "windows", timeout=START_S)
    try:
        apps.start()
    except BaseException:
        for double in doubles.values():
            double.stop()
        raise
    return apps, doubles


@pytest.fixture(scope="module", params=["xfce4-terminal", "xterm"])
def agents(request: pytest.FixtureRequest, x_display: VirtualDisplay) -> Iterator[Agents]:
    terminal: TerminalKind = request.param
    # a short folder: a CLI showing a long path in its status line wraps it, and its input
    # moves up a row
    root = Path(tempfile.mkdtemp(prefix="cli-", dir="/tmp"))
    panes, doubles = start_agents(terminal, x_display.name, root)
    try:
        yield Agents(terminal, panes, doubles)
    finally:
        panes.stop()
        for double in doubles.values():
            double.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def desk(
    tmp_path: Path, agents: Agents, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Runtime]:
    # a CLI still answering shows no prompt: the message waits for it, tried this often
    monkeypatch.setenv("CELLPHONE_GUI__DRAFT_RETRY_S", "0.5")
    # Aider shows its prompt again only once it answered (its first answer loads its model
    # library: over a second), and xterm draws a 6,000-character echo slower than that
    monkeypatch.setenv("CELLPHONE_GUI__VERIFY_TIMEOUT_S", str(VERIFY_TIMEOUT_S))
    home: Home = make_home(tmp_path / "home", {"agents": agents.coordinates()})
    settings = load_settings(home)
    screen = GuiDeliverer(settings.gui)
    async with open_runtime(home, settings, screen) as runtime:
        yield runtime
    screen.close()


def typed(message: Message, agent_id: str, runtime: Runtime) -> str:
    return render(message, agent_id, runtime.settings.messaging.footer)


def as_received(cli: Cli, text: str) -> str:
    """The prompt the model gets for ``text``: Claude Code turns each tab into 4 spaces."""
    return text.replace("\t", "    ") if cli.name == "claude" else text


def picture_of(agents: Agents, agent_id: str, folder: Path) -> Path:
    """The pane's window as it looks now, saved for a failure's message."""
    prompt = agents.panes.input_rect(agent_id)
    window = Rect(prompt.x, max(prompt.y - 24 * prompt.height, 0), prompt.width, 26 * prompt.height)
    x11 = X11(agents.panes.display)
    try:
        Picture(window, x11.grab(window.x, window.y, window.width, window.height)).image().save(
            path := folder / f"{agent_id}.png"
        )
    finally:
        x11.close()
    return path


@pytest.mark.parametrize("cli", CLIS, ids=[cli.name for cli in CLIS])
async def test_every_message_reported_delivered_reached_the_model_exactly_once(
    desk: Runtime, agents: Agents, cli: Cli, tmp_path: Path
) -> None:
    agent_id = agent_of(cli, agents.terminal)
    double = agents.doubles[agent_id]
    already = len(double.texts())
    expected: list[str] = []
    missed: list[str] = []  # reported not delivered: the screen could not tell it was sent
    for body in BODIES:
        submission = await desk.service.send([agent_id], body)
        outcome = (await desk.desk.wait_for(submission.message.id, 60))[agent_id]
        text = as_received(cli, typed(submission.message, agent_id, desk))
        if (outcome.state, outcome.method, outcome.verified) != (
            DeliveryState.DELIVERED,
            DeliveryMethod.GUI,
            True,
        ):
            seen = picture_of(agents, agent_id, tmp_path)
            missed.append(f"{body[:30]!r}: {outcome.reason} (the pane: {seen})")
            # it may have been sent all the same: an honest miss, never a false claim
            got = double.wait_for_prompts(already + len(expected) + 1, 3.0)[already:]
            if got[len(expected) :] == [text]:
                expected.append(text)
            continue
        expected.append(text)
        # each prompt arrives before the next is typed: a CLI busy with one holds the next
        got = double.wait_for_prompts(already + len(expected), ARRIVAL_S)[already:]
        assert got == expected, f"{agent_id} in {agents.terminal}"
    # what was claimed arrived exactly; on a loaded machine one message a run may be missed
    # honestly, and the next one with it (its leftover is cleared first, and a terminal's
    # clear keys are never pressed twice in a row)
    assert len(missed) <= 2, f"{agent_id} in {agents.terminal}: {missed}"


async def test_a_leftover_gone_from_the_input_is_not_cleared_with_ctrl_c(
    desk: Runtime, agents: Agents
) -> None:
    """An input noted as holding the text of an attempt that failed after its paste (noted
    in the home, for every process of the desk) that shows its empty look when the next
    message comes (the CLI sent the text late, or the operator emptied it) gets no clear
    keys: Ctrl+C on an empty input arms Codex CLI to quit, and a second one within a
    second or so quits it, and the next message with it."""
    codex_cli = next(cli for cli in CLIS if cli.name == "codex")
    agent_id = agent_of(codex_cli, agents.terminal)
    double = agents.doubles[agent_id]
    already = len(double.texts())
    expected: list[str] = []
    for body in ("the first: the desk learns the empty input", "the second", "the third"):
        if expected:  # as a process of the desk whose paste was not submitted notes
            left = LeftText()
            left.keep_in(desk.home.var_dir / "looks" / LEFT_TEXT_FILE)
            left.add((agent_id, False))
        submission = await desk.service.send([agent_id], body)
        outcome = (await desk.desk.wait_for(submission.message.id, 60))[agent_id]
        assert (outcome.state, outcome.method, outcome.verified) == (
            DeliveryState.DELIVERED,
            DeliveryMethod.GUI,
            True,
        ), f"{agent_id} in {agents.terminal}, {body!r}: {outcome.reason}"
        expected.append(typed(submission.message, agent_id, desk))
        got = double.wait_for_prompts(already + len(expected), ARRIVAL_S)[already:]
        assert got == expected, f"{agent_id} in {agents.terminal}"


async def test_clear_keys_wait_out_a_ctrl_c_pressed_moments_before(
    tmp_path: Path, agents: Agents, x_display: VirtualDisplay
) -> None:
    """Gemini CLI quits on a Ctrl+C within 3 s of one into its empty input. An input noted
    as holding a leftover whose clear keys another process of the desk pressed a moment ago
    (noted in the home) gets them again only once :data:`CLEAR_GAP_S` passed: Gemini CLI
    keeps running, and the messages reach it. (The home is fresh: the input's empty look is
    not known, so its clear keys are pressed.)"""
    gemini_cli = next(cli for cli in CLIS if cli.name == "gemini")
    agent_id = agent_of(gemini_cli, agents.terminal)
    double = agents.doubles[agent_id]
    already = len(double.texts())
    home = make_home(tmp_path / "home", {"agents": agents.coordinates()})
    x, y = agents.panes.pane_points()[agent_id]
    operator(x_display, "mousemove", str(x), str(y), "click", "1")
    operator(x_display, "key", "ctrl+c")  # into the empty input: armed to quit for 3 s
    left = LeftText()
    left.keep_in(home.var_dir / "looks" / LEFT_TEXT_FILE)
    left.add((agent_id, False))
    left.note_cleared((agent_id, False))
    ours = time.time()
    settings = load_settings(home)
    screen = GuiDeliverer(settings.gui)
    expected: list[str] = []
    missed: list[str] = []  # honest misses: Gemini CLI took an Enter for a new line
    delivered = 0
    try:
        async with open_runtime(home, settings, screen) as runtime:
            # until two are delivered in a row, the last leaving the input empty for the
            # module's next test; a quit Gemini CLI takes none
            for attempt in range(4):
                body = f"message {attempt} after the other process's Ctrl+C"
                submission = await runtime.service.send([agent_id], body)
                outcome = (await runtime.desk.wait_for(submission.message.id, 60))[agent_id]
                text = typed(submission.message, agent_id, runtime)
                if (outcome.state, outcome.verified) != (DeliveryState.DELIVERED, True):
                    missed.append(outcome.reason or "")
                    delivered = 0
                    got = double.wait_for_prompts(already + len(expected) + 1, 3.0)[already:]
                    if got[len(expected) :] == [text]:  # it may have been sent all the same
                        expected.append(text)
                    continue
                expected.append(text)
                got = double.wait_for_prompts(already + len(expected), ARRIVAL_S)[already:]
                assert got == expected, f"{agent_id} in {agents.terminal}"
                delivered += 1
                if delivered == 2:
                    break
    finally:
        screen.close()
    assert delivered == 2, f"{agent_id} in {agents.terminal}: {missed}"
    # the desk pressed them (noted in the home), and not before the gap was over
    pressed = time.time() - left.cleared_ago((agent_id, False))
    assert pressed - ours >= CLEAR_GAP_S - 0.05, f"pressed {pressed - ours:.2f} s after ours"


async def test_an_enter_taken_as_a_new_line_is_reported_never_delivered(
    tmp_path: Path, agents: Agents, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gemini CLI without its submit_after_s takes an Enter right after a paste as a new
    line: the text moves up a row over an empty line and stays. That is reported typed but
    not submitted, and whatever is reported delivered reached the model. (Last for each
    terminal: Gemini CLI's input moves up its window after it.)"""
    monkeypatch.setenv("CELLPHONE_GUI__VERIFY_TIMEOUT_S", str(VERIFY_TIMEOUT_S))
    gemini = next(cli for cli in CLIS if cli.name == "gemini")
    agent_id = agent_of(gemini, agents.terminal)
    coordinates = agents.coordinates()
    coordinates[agent_id]["submit_after_s"] = 0
    home = make_home(tmp_path / "home", {"agents": coordinates})
    settings = load_settings(home)
    double = agents.doubles[agent_id]
    already = len(double.texts())
    delivered, reasons = [], []
    screen = GuiDeliverer(settings.gui)
    async with open_runtime(home, settings, screen) as runtime:
        for body in BODIES[:3]:  # Gemini CLI takes most such Enters for a new line, not all
            submission = await runtime.service.send([agent_id], body)
            outcome = (await runtime.desk.wait_for(submission.message.id, 60))[agent_id]
            if outcome.state is DeliveryState.DELIVERED:
                delivered.append(typed(submission.message, agent_id, runtime))
                double.wait_for_prompts(already + len(delivered), ARRIVAL_S)
            else:
                reasons.append(outcome.reason or "")
                break  # after it, Gemini CLI's input has moved up its window
    screen.close()
    time.sleep(1.0)  # nothing held in the input goes out later
    assert double.texts()[already:] == delivered
    assert reasons, "Gemini CLI took no Enter as a new line: the case is not tested"
    assert "took enter as a new line" in reasons[0], reasons


def xfce4_agent(panes: TerminalPanes, agent_id: str) -> Agent:
    """The agent of a pane of xfce4-terminal, with the keys of the README's table."""
    x, y = panes.pane_points()[agent_id]
    keys = Typing(paste_keys=("ctrl", "shift", "v"), verify_region=(600, 40))
    return Agent(agent_id, "", True, Point(x, y), None, typing=keys)


def test_xfce4_terminal_asking_to_confirm_the_paste_is_a_fallback_naming_the_setting(
    x_display: VirtualDisplay, tmp_path: Path
) -> None:
    """xfce4-terminal as installed asks before pasting text with line breaks (every message
    has them). Enter would press the dialog's "Paste", leaving the text in the input unsent:
    the desk sees the dialog come up, cancels it, and says which setting turns it off."""
    pane = TerminalPane("Asks", 640, 700, columns=72, rows=14, paste_dialog=True)
    with TerminalPanes([pane], x_display.name, tmp_path / "asks") as asking:
        agent = xfce4_agent(asking, "Asks")
        screen = GuiDeliverer(GuiSettings())
        try:
            for attempt in range(2):
                body = f"attempt {attempt}\n\nsecond paragraph"
                with pytest.raises(NotDeliverable) as refused:
                    screen.deliver_now(Job(Message("Captain", ("Asks",), body), agent, body))
                reason = refused.value.reason
                assert "Warning: Potentially Unsafe Paste" in reason, reason
                assert "MiscShowUnsafePasteDialog=FALSE" in reason, reason
                assert "nothing was submitted" in reason and "cancelled" in reason, reason
        finally:
            screen.close()
        assert asking.received() == []
        assert asking.draft("Asks") is None  # nothing was pasted either


QUITS_ON_ENTER = """
import os, sys, tty
sys.stdout.write("ready\\r\\n> ")
sys.stdout.flush()
tty.setraw(0)
os.write(1, b"\\x1b[?2004h")
pasted = False
while True:
    data = os.read(0, 65536)
    pasted = pasted or b"\\x1b[201~" in data
    if pasted and data.endswith(b"\\r") and b"\\x1b[201~" not in data:
        sys.exit(0)
    os.write(1, data.replace(b"\\x1b[200~", b"").replace(b"\\x1b[201~", b""))
"""


def test_a_terminal_that_closes_at_enter_is_not_taken_for_a_submission(
    x_display: VirtualDisplay, tmp_path: Path
) -> None:
    """A CLI that exits at the submit keys takes its terminal window with it: the point then
    shows whatever is behind, which changes as a submission does. The desk sees the window
    gone and says it cannot tell (the message goes to the inbox), never "verified"."""
    program = tmp_path / "quits.py"
    program.write_text(QUITS_ON_ENTER)
    pane = TerminalPane(
        "Quits", 640, 700, columns=72, rows=14, command=f"python3 {program}", ready="ready"
    )
    with TerminalPanes([pane], x_display.name, tmp_path / "quits") as panes:
        agent = xfce4_agent(panes, "Quits")
        screen = GuiDeliverer(GuiSettings())
        try:
            body = "the last words"
            with pytest.raises(NotDeliverable) as refused:
                screen.deliver_now(Job(Message("Captain", ("Quits",), body), agent, body))
        finally:
            screen.close()
    reason = refused.value.reason
    assert "closed while the desk typed into it" in reason, reason
    assert "whether it was sent is not known" in reason, reason
