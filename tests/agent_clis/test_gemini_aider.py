"""Gemini CLI and Aider, each in a real tmux server of its own, typed into as a user pastes:
``load-buffer`` and ``paste-buffer -p`` (a bracketed paste), then Enter. No product code:
these tests pin down what the real CLIs do with such input, which the tmux lane relies on.
What counts is what their model API double received: each prompt exactly as pasted, once.

Found here (Gemini CLI 0.61.0, Aider 0.86.2): Gemini CLI takes an Enter for a new line
while a paste is recent (30 ms after its last key, and 40 ms by a timer that runs late when
its event loop is busy), so Enter comes 0.1 s after the paste shows, and again after a
Backspace when the paste is still in the input a second later. It keeps its input open
while it works and queues what is submitted then, sending the queue as one prompt with a
blank line between. Aider takes Enter at once; a leading ``/`` is one of its commands (an
unknown one is refused and nothing is sent); while it works it has no input, and what is
typed waits in the terminal until its next prompt, which takes it line by line."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.agent_clis import aider, gemini
from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.model_api.chat_completions import ChatCompletionsDouble
from tests.agent_clis.model_api.gemini import GeminiDouble
from tests.agent_clis.recipe import Recipe

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)

WIDTH, HEIGHT = 150, 45
START_TIMEOUT_S = 90.0
STEP_TIMEOUT_S = 30.0  # a paste to show, a prompt to arrive, an answer to show
POLL_S = 0.02
EXIT_TIMEOUT_S = 5.0  # for the CLI's processes to end once told to
SUBMIT_S = 1.0  # for a submitted paste to leave the input (measured: 15-70 ms, up to 0.2 s)
ENTER_ATTEMPTS = 3

LONG = "\n".join(
    f"Line {n:03d}: the quick brown fox jumps over the lazy dog, again and again."
    for n in range(1, 85)
)[:6000]  # 6,000 characters over 84 lines
PROMPTS = {
    "short": "Hello, please answer with one word.",
    "paragraphs": (
        "First paragraph: a short one.\n\n"
        "Second paragraph, with a comma, and more words.\n\n"
        "Third paragraph ends here."
    ),
    "long": LONG,
    "slash": "/not-a-command please answer",
    "tab": "before\tafter the tab",
    "unicode": "Unicode: ü ✓ 日本",
    "dashes": "--help",
}
RULE = "─"


# -- a tmux server of the test's own ------------------------------------------------------


class TmuxPane:
    """One window of a tmux server of its own (socket ``ga-...``) running one program. Its
    processes are ended on :meth:`close`: Gemini CLI outlives the SIGHUP that killing the
    server sends, so the server's process tree is told to stop by itself."""

    def __init__(self, command: str) -> None:
        self.socket = f"ga-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.target = "cli:0.0"
        self._pastes = 0
        self.tmux(
            "-f", "/dev/null",
            "new-session", "-d", "-s", "cli", "-x", str(WIDTH), "-y", str(HEIGHT), command,
            ";", "set-option", "-g", "-w", "remain-on-exit", "on",
        )  # fmt: skip
        try:
            server = self.tmux("display-message", "-p", "-t", self.target, "#{pid} #{socket_path}")
            pid, socket_path = server.strip().split(" ", 1)
            self.server_pid, self.socket_path = int(pid), Path(socket_path)
        except BaseException:
            subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
            raise

    def tmux(self, *arguments: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *arguments],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout

    def capture(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.target)

    def paste(self, text: str) -> None:
        self._pastes += 1
        name = f"prompt-{self._pastes}"
        self.tmux("load-buffer", "-b", name, "-", stdin=text)
        self.tmux("paste-buffer", "-p", "-d", "-b", name, "-t", self.target)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.target, *keys)

    def poll(self, condition: Callable[[str], bool], timeout: float) -> str | None:
        """The screen once ``condition`` holds, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture()
            if condition(screen):
                return screen
            if time.monotonic() > deadline:
                return None
            time.sleep(POLL_S)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float) -> str:
        """The screen once ``condition`` holds; AssertionError with the screen after
        ``timeout``."""
        screen = self.poll(condition, timeout)
        if screen is None:
            raise AssertionError(f"the pane never showed {what} in {timeout} s:\n{self.capture()}")
        return screen

    def close(self) -> None:
        processes = process_tree(self.server_pid)  # the server, the pane, what it started
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        end_processes(processes)
        self.socket_path.unlink(missing_ok=True)  # left behind when the server is ended


def process_tree(root: int) -> dict[int, str]:
    """``root`` and its descendants, each with its start time (to know it again)."""
    parents: dict[int, int] = {}
    started: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := read_stat(int(entry.name))) is not None:
            parents[int(entry.name)], started[int(entry.name)] = int(stat[1]), stat[19]
    tree = {root} if root in started else set()
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return {pid: started[pid] for pid in tree}


def read_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def end_processes(processes: dict[int, str]) -> None:
    """SIGTERM those of ``processes`` still running, SIGKILL those still there after
    ``EXIT_TIMEOUT_S``."""

    def running() -> list[int]:
        alive = []
        for pid, start in processes.items():
            stat = read_stat(pid)
            if stat is not None and stat[19] == start and stat[0] != "Z":
                alive.append(pid)
        return alive

    for pid in running():
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while running() and time.monotonic() < deadline:
        time.sleep(POLL_S)
    for pid in running():
        os.kill(pid, signal.SIGKILL)


# -- the two CLIs as the pane shows them --------------------------------------------------


def input_area(screen: str) -> list[str]:
    """The lines below the last horizontal rule (both CLIs draw one above their input), or
    every line when the rule has scrolled away."""
    lines = screen.rstrip("\n").split("\n")
    rules = [i for i, line in enumerate(lines) if line.strip() and set(line.strip()) == {RULE}]
    return lines[rules[-1] + 1 :] if rules else lines


def input_text(screen: str) -> str:
    return "\n".join(input_area(screen))


@dataclass(frozen=True)
class Cli:
    name: str
    recipe: Callable[[Path, ModelApiDouble], Recipe]
    double: Callable[[], ModelApiDouble]
    key_gap_s: float  # pause between the paste showing and the next key (measured)
    enter_may_add_a_line: bool  # Enter may still be taken as part of the paste (see below)
    working: str  # what the pane shows while the model answers
    idle: Callable[[str], bool]  # the input is empty and the CLI waits
    shown: Callable[[str], str]  # how the input shows a pasted text (its last line)


GEMINI_EMPTY_INPUT = "Type your message or @path/to/file"
GEMINI_WORKING = "esc to cancel"
GEMINI_QUEUED = "Queued (press ↑ to edit):"


def gemini_idle(screen: str) -> bool:
    return GEMINI_WORKING not in screen and any(
        GEMINI_EMPTY_INPUT in line for line in input_area(screen)
    )


def gemini_shown(text: str) -> str:
    """A paste of more than 5 lines or 500 characters is a placeholder in the input; the
    text is sent in full. Tabs show as four spaces."""
    lines = text.count("\n") + 1
    if lines > 5:
        return f"[Pasted Text: {lines} lines]"
    if len(text) > 500:
        return f"[Pasted Text: {len(text)} chars]"
    return text.split("\n")[-1].replace("\t", "    ")


def aider_idle(screen: str) -> bool:
    return [line.rstrip() for line in input_area(screen) if line.strip()] == [">"]


def aider_shown(text: str) -> str:
    """Every line of the input starts with ``> ``; tabs show as ``^I``."""
    return "> " + text.split("\n")[-1].replace("\t", "^I")


CLIS = {
    "gemini": Cli(
        "gemini",
        gemini.recipe,
        GeminiDouble,
        key_gap_s=0.1,
        enter_may_add_a_line=True,
        working=GEMINI_WORKING,
        idle=gemini_idle,
        shown=gemini_shown,
    ),
    "aider": Cli(
        "aider",
        aider.recipe,
        ChatCompletionsDouble,
        key_gap_s=0.0,
        enter_may_add_a_line=False,
        working=f"Waiting for {aider.MODEL}",
        idle=aider_idle,
        shown=aider_shown,
    ),
}


@dataclass
class Session:
    cli: Cli
    pane: TmuxPane
    double: ModelApiDouble
    answers: int = 0
    enters_again: int = 0  # times Gemini CLI took Enter as a new line and got it again

    def wait_idle(self) -> str:
        return self.pane.wait_for(self.cli.idle, "an empty input", STEP_TIMEOUT_S)

    def draft(self, text: str, *, show: bool = True) -> None:
        """Paste ``text``, wait until the input shows it (unless ``show`` is False: Aider
        has no input while it works), pause as the CLI needs before the next key."""
        self.pane.paste(text)
        if show:
            shown = self.cli.shown(text)
            self.pane.wait_for(
                lambda screen: shown in input_text(screen), repr(shown), STEP_TIMEOUT_S
            )
        if self.cli.key_gap_s:
            time.sleep(self.cli.key_gap_s)  # pacing the CLI needs, not a wait for an event

    def type_in(self, text: str, *, show: bool = True) -> None:
        """:meth:`draft`, then Enter. Gemini CLI takes an Enter for a new line while a
        paste is recent: for 40 ms by a timer, longer when its event loop is busy (seen
        now and then on the second prompt of a session, with the machine loaded). Then
        the paste stays in its input: one Backspace takes the new line away and Enter is
        pressed again."""
        self.draft(text, show=show)
        self.pane.press("Enter")
        if not (show and self.cli.enter_may_add_a_line):
            return
        shown = self.cli.shown(text)
        for _ in range(ENTER_ATTEMPTS):
            if self.pane.poll(lambda screen: shown not in input_text(screen), SUBMIT_S):
                return
            self.enters_again += 1
            log.warning("%s kept the paste in its input after Enter: again", self.cli.name)
            self.pane.press("BSpace")
            time.sleep(self.cli.key_gap_s)  # pacing, as in draft()
            self.pane.press("Enter")
        self.pane.wait_for(lambda screen: shown not in input_text(screen), "it sent", SUBMIT_S)

    def next_answer(self) -> str:
        """Set the double's answer to a new text, to know this turn's answer on screen."""
        self.answers += 1
        self.double.answer = f"Answer number {self.answers}."
        return self.double.answer

    def wait_answer(self, answer: str) -> str:
        return self.pane.wait_for(
            lambda screen: answer in screen and self.cli.idle(screen),
            f"{answer!r} and an empty input",
            STEP_TIMEOUT_S,
        )


@pytest.fixture(scope="module", params=list(CLIS))
def session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Session]:
    cli = CLIS[request.param]
    root = tmp_path_factory.mktemp(cli.name)
    with cli.double() as double:
        recipe = cli.recipe(root, double)
        # The terminal is tmux: say so, whatever terminal runs the tests.
        recipe = dataclasses.replace(recipe, env=recipe.env | {"TERM": "tmux-256color"})
        pane = TmuxPane(recipe.shell_command())
        try:
            pane.wait_for(
                lambda screen: recipe.ready in screen and cli.idle(screen),
                f"{recipe.ready!r}",
                START_TIMEOUT_S,
            )
            yield Session(cli, pane, double)
        finally:
            pane.close()


# -- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(PROMPTS))
def test_a_pasted_prompt_reaches_the_model_exactly_once(session: Session, case: str) -> None:
    text = PROMPTS[case]
    session.wait_idle()
    before = len(session.double.texts())
    answer = session.next_answer()

    session.type_in(text)

    if session.cli.name == "aider" and case == "slash":
        # A leading "/" is an Aider command: an unknown one is refused, nothing is sent.
        session.pane.wait_for(
            lambda screen: "Invalid command: /not-a-command" in screen and session.cli.idle(screen),
            "Aider refusing the command",
            STEP_TIMEOUT_S,
        )
        assert session.double.texts()[before:] == []
        return
    assert session.double.wait_for_prompts(before + 1, STEP_TIMEOUT_S)[before:] == [text]
    session.wait_answer(answer)
    assert session.double.texts()[before:] == [text]


def test_the_pane_shows_the_cli_working_while_the_model_answers(session: Session) -> None:
    session.wait_idle()
    before = len(session.double.texts())
    answer = session.next_answer()
    session.double.delay_s = 5.0
    try:
        session.type_in("Take your time.")
        session.double.wait_for_prompts(before + 1, STEP_TIMEOUT_S)
        received_at = session.double.prompts[before].received_at

        session.pane.wait_for(
            lambda screen: session.cli.working in screen, repr(session.cli.working), 4.0
        )
        assert time.monotonic() < received_at + 5.0, "the model answered already"
        assert answer not in session.pane.capture()

        screen = session.wait_answer(answer)
        assert session.cli.working not in screen
    finally:
        session.double.delay_s = 0.0
    assert session.double.texts()[before:] == ["Take your time."]


def test_prompts_submitted_while_the_cli_works_go_out_after_the_answer(
    session: Session,
) -> None:
    session.wait_idle()
    before = len(session.double.texts())
    session.next_answer()
    session.double.delay_s = 3.0
    try:
        session.type_in("The first one.")
        session.double.wait_for_prompts(before + 1, STEP_TIMEOUT_S)
        working = session.cli.name == "gemini"  # Gemini CLI keeps its input open
        session.type_in("The second one.", show=working)
        session.type_in("The third one.", show=working)
        if working:
            session.pane.wait_for(lambda screen: GEMINI_QUEUED in screen, "the queue", 4.0)
        session.double.delay_s = 0.0
        expected = {
            # Gemini CLI sends what it queued as one prompt, a blank line between.
            "gemini": ["The first one.", "The second one.\n\nThe third one."],
            # Aider reads what waited in the terminal at its next prompt, line by line.
            "aider": ["The first one.", "The second one.", "The third one."],
        }[session.cli.name]
        received = session.double.wait_for_prompts(before + len(expected), STEP_TIMEOUT_S)
        assert received[before:] == expected
        answer = session.double.answer  # the same for each of these turns
        session.pane.wait_for(
            lambda screen: screen.count(answer) == len(expected) and session.cli.idle(screen),
            f"{answer!r} {len(expected)} times and an empty input",
            STEP_TIMEOUT_S,
        )
    finally:
        session.double.delay_s = 0.0
    assert session.double.texts()[before:] == expected


def test_ctrl_c_empties_a_non_empty_input_and_the_cli_stays(session: Session) -> None:
    session.wait_idle()
    before = len(session.double.texts())
    session.draft("Never sent,\nthis draft.")

    session.pane.press("C-c")

    screen = session.wait_idle()
    if session.cli.name == "aider":
        # Aider says so; a second ctrl+c within 2 s would end it, input or not.
        assert "^C again to exit" in screen
    else:
        assert "Press Ctrl+C again to exit." not in screen  # armed only on an empty input
    assert session.double.texts()[before:] == []
