"""Claude Code and Codex CLI in a real tmux, each against a double of its model API: a prompt
pasted into the CLI's input (a bracketed paste) and submitted with Enter reaches the model API
exactly once, as pasted, even with Enter right after the paste; a busy CLI shows that it is
working, and a prompt submitted meanwhile goes after the answer.

What each CLI shows is written down in :class:`Screen`; the rewrites each makes are asserted
where they happen: Claude Code turns a tab into four spaces, Codex trims the prompt, neither
sends a prompt that starts like an unknown slash command, and both run one starting with "!"
as a shell command."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.agent_clis import claude, codex
from tests.agent_clis.model_api.anthropic import AnthropicDouble
from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.model_api.responses import ResponsesDouble
from tests.agent_clis.recipe import Recipe, end_processes

pytestmark = pytest.mark.slow

START_S = 60.0  # a CLI's first start (Codex unpacks itself) until it waits for a prompt
SHOW_S = 5.0  # a paste until the input shows it
ANSWER_S = 30.0  # Enter until the answer is in and the input empty again
SETTLE_S = 0.5  # idle that long is idle: between Enter and the busy look are idle-looking frames

LINES = (f"Line {n:03d}: the quick brown fox jumps over the lazy dog." for n in range(120))
LONG = "\n".join(LINES)[:5999] + "."  # 6,000 characters over 106 lines, the last "Line."


@dataclass(frozen=True)
class Screen:
    """How one CLI draws its input, read from ``capture-pane -p``."""

    prompt: str  # what starts the input's first line (and each earlier prompt's echo)
    empty: str  # the input's first line when it holds nothing
    busy: str  # text shown only while the CLI waits for the model
    placeholder: str  # how a long paste starts in the input
    placeholder_over: int  # a paste longer than this many characters shows the placeholder
    placeholder_lines: int  # a paste of more lines than this shows the placeholder (0: never)
    unknown_command: str  # what it says when a prompt starts with an unknown /command
    shell_mode: str  # what it shows once the input starts with "!"
    tab: str  # what a tab in a prompt becomes

    def input_line(self, capture: str) -> str:
        """The input's first line: the last line starting with the prompt character."""
        return self.input_and_below(capture).split("\n", 1)[0]

    def input_and_below(self, capture: str) -> str:
        """The pane from the input's first line down (the input, and the hints under it)."""
        lines = [line.rstrip() for line in capture.splitlines()]
        mark = self.prompt.rstrip()
        starts = [n for n, line in enumerate(lines) if line.startswith(mark)]
        return "\n".join(lines[starts[-1] :]) if starts else ""

    def is_idle(self, capture: str) -> bool:
        return self.input_line(capture) == self.empty and self.busy not in capture

    def shown_as(self, text: str) -> str:
        """What the pane shows once ``text`` is pasted into the input."""
        lines = text.split("\n")
        if len(text) > self.placeholder_over or 0 < self.placeholder_lines < len(lines):
            return self.placeholder
        return lines[-1].split("\t")[-1]


CLAUDE = Screen(
    prompt="❯\N{NO-BREAK SPACE}",
    empty="❯",
    busy="esc to interrupt",
    placeholder="[Pasted text #",
    placeholder_over=800,
    placeholder_lines=3,
    unknown_command="Unknown command: /not-a-command",
    shell_mode="! for shell mode",
    tab="    ",
)
CODEX = Screen(
    prompt="› ",
    empty="› Ask Codex to do anything",
    busy="esc to interrupt",
    placeholder="[Pasted Content ",
    placeholder_over=1000,
    placeholder_lines=0,
    unknown_command="Unrecognized command '/not-a-command'",
    shell_mode="Shell mode",
    tab="\t",
)


class Pane:
    """One window of a tmux server of its own (``tmux -S <folder>/cc-<name>.sock``) running one
    CLI."""

    def __init__(self, recipe: Recipe, folder: Path) -> None:
        self.socket = folder / f"cc-{recipe.name}.sock"
        self.config = folder / "tmux.conf"
        self.config.write_text("set -g remain-on-exit on\n")  # a CLI that exits leaves its words
        self.target = "main:0.0"
        recipe = replace(recipe, env=recipe.env | {"TERM": "tmux-256color"})  # as tmux sets it
        self._tmux(
            "new-session", "-d", "-s", "main", "-x", "150", "-y", "45", recipe.shell_command()
        )

    def _tmux(self, *args: str, stdin: str | None = None) -> str:
        command = ["tmux", "-S", str(self.socket), "-f", str(self.config), *args]
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=10)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:6])}... failed: {done.stderr.strip()}")
        return done.stdout

    def capture(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def paste(self, text: str) -> None:
        """A bracketed paste of ``text``, the way a terminal pastes the clipboard."""
        self._tmux("load-buffer", "-b", "prompt", "-", stdin=text)
        self._tmux("paste-buffer", "-p", "-d", "-b", "prompt", "-t", self.target)

    def paste_and_enter(self, text: str) -> None:
        """Paste ``text`` and press Enter in one tmux command: no time between them."""
        self._tmux("load-buffer", "-b", "prompt", "-", stdin=text)
        paste = ("paste-buffer", "-p", "-d", "-b", "prompt", "-t", self.target)
        self._tmux(*paste, ";", "send-keys", "-t", self.target, "Enter")

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.target, *keys)

    def wait_for(
        self, condition: Callable[[str], bool], timeout: float, what: str, steady: float = 0.0
    ) -> str:
        """The first capture for which ``condition`` holds, and has held in every capture for
        ``steady`` seconds; polled until ``timeout``."""
        deadline = time.monotonic() + timeout
        since: float | None = None
        while True:
            capture = self.capture()
            now = time.monotonic()
            since = (since or now) if condition(capture) else None
            if since is not None and now - since >= steady:
                return capture
            if now > deadline:
                raise AssertionError(f"after {timeout} s the pane shows no {what}:\n{capture}")
            time.sleep(0.02)

    def close(self) -> None:
        command = ["tmux", "-S", str(self.socket), "kill-server"]
        subprocess.run(command, capture_output=True, timeout=10)
        self.socket.unlink(missing_ok=True)


@dataclass
class Agent:
    name: str
    pane: Pane
    double: ModelApiDouble
    screen: Screen

    def paste_and_show(self, text: str) -> None:
        """Paste ``text`` into the empty input and wait until the input shows it."""
        marker = self.screen.shown_as(text)
        before = self.pane.capture()
        assert self.screen.is_idle(before), f"{self.name} is not idle:\n{before}"
        self.pane.paste(text)
        self.pane.wait_for(
            lambda capture: marker in self.screen.input_and_below(capture), SHOW_S, repr(marker)
        )

    def submit(self, text: str) -> list[str]:
        """Paste ``text``, press Enter, wait until the answer is in; the prompts it caused."""
        count = len(self.double.texts())
        self.paste_and_show(text)
        self.pane.press("Enter")
        self.double.wait_for_prompts(count + 1, ANSWER_S)
        self.wait_idle(ANSWER_S, "empty input after the answer")
        return self.double.texts()[count:]

    def wait_idle(self, timeout: float, what: str) -> None:
        self.pane.wait_for(self.screen.is_idle, timeout, what, steady=SETTLE_S)


@pytest.fixture(scope="module", params=["claude", "codex"])
def agent(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Agent]:
    name: str = request.param
    root = tmp_path_factory.mktemp(name).resolve()
    double: ModelApiDouble = AnthropicDouble() if name == "claude" else ResponsesDouble()
    screen = CLAUDE if name == "claude" else CODEX
    pane: Pane | None = None
    with double:
        try:
            recipe = (claude if name == "claude" else codex).recipe(root, double)
            pane = Pane(recipe, root)
            pane.wait_for(lambda capture: recipe.ready in capture, START_S, repr(recipe.ready))
            ready = Agent(name, pane, double, screen)
            ready.wait_idle(START_S, "empty input")
            yield ready
        finally:
            if pane is not None:
                pane.close()
            end_processes(root)


PROMPTS = {
    "short": "Please answer with OK.",
    "paragraphs": "First paragraph, one line.\n\nSecond paragraph,\nof two lines.\n\nThird one.",
    "long": LONG,
    "tab": "before\tafter the tab",
    "unicode": "unicode ü ✓ 日本 done",
    "help": "--help",
    "space-slash": " /not-a-command please answer",
}


def as_sent(agent: Agent, prompt: str) -> str:
    """``prompt`` as the CLI sends it to the model."""
    sent = prompt.replace("\t", agent.screen.tab)
    return sent.strip() if agent.name == "codex" else sent  # Codex: " /x" goes out as "/x"


@pytest.mark.parametrize("prompt", PROMPTS.values(), ids=PROMPTS.keys())
def test_a_pasted_prompt_reaches_the_model_once(agent: Agent, prompt: str) -> None:
    assert agent.submit(prompt) == [as_sent(agent, prompt)]


@pytest.mark.parametrize("prompt", [PROMPTS["paragraphs"], LONG], ids=["paragraphs", "long"])
def test_enter_right_after_the_paste_submits_all_of_it(agent: Agent, prompt: str) -> None:
    count = len(agent.double.texts())
    agent.pane.paste_and_enter(prompt)
    agent.double.wait_for_prompts(count + 1, ANSWER_S)
    agent.wait_idle(ANSWER_S, "empty input after the answer")
    assert agent.double.texts()[count:] == [as_sent(agent, prompt)]


def test_an_unknown_slash_command_is_not_sent(agent: Agent) -> None:
    prompt = "/not-a-command please answer"
    count = len(agent.double.texts())
    agent.paste_and_show(prompt)
    agent.pane.press("Enter")
    agent.pane.wait_for(
        lambda capture: agent.screen.unknown_command in capture, SHOW_S, "unknown command"
    )
    shown = agent.screen.input_line(agent.pane.capture())
    if agent.name == "codex":  # Codex keeps the text, the cursor at its start; ctrl+c clears it
        assert shown == f"{agent.screen.prompt}{prompt}"
        agent.pane.press("C-c")
    agent.wait_idle(SHOW_S, "empty input")
    assert agent.double.texts()[count:] == []


def test_a_busy_agent_shows_it_is_working(agent: Agent) -> None:
    count = len(agent.double.texts())
    agent.double.delay_s = 5
    try:
        agent.paste_and_show("Take your time.")
        agent.pane.press("Enter")
        agent.double.wait_for_prompts(count + 1, ANSWER_S)
        answered_by = agent.double.prompts[count].received_at + agent.double.delay_s
        busy = agent.pane.wait_for(lambda c: agent.screen.busy in c, 4, agent.screen.busy)
        assert time.monotonic() < answered_by, "the busy look came only after the answer"
        assert agent.screen.input_line(busy) == agent.screen.empty
        agent.wait_idle(ANSWER_S, "empty input after the answer")
    finally:
        agent.double.delay_s = 0
    assert agent.double.texts()[count:] == ["Take your time."]


def test_a_prompt_submitted_while_busy_goes_after_the_answer(agent: Agent) -> None:
    count = len(agent.double.texts())
    agent.double.delay_s = 3
    try:
        agent.paste_and_show("The first one.")
        agent.pane.press("Enter")
        agent.double.wait_for_prompts(count + 1, ANSWER_S)
        agent.pane.wait_for(lambda c: agent.screen.busy in c, 4, agent.screen.busy)
        agent.pane.paste("The second one.")
        agent.pane.wait_for(
            lambda c: agent.screen.input_line(c) == f"{agent.screen.prompt}The second one.",
            SHOW_S,
            "the second prompt in the input",
        )
        agent.pane.press("Enter")
        agent.double.wait_for_prompts(count + 2, ANSWER_S)
        agent.wait_idle(ANSWER_S, "empty input after the answers")
    finally:
        agent.double.delay_s = 0
    first, second = agent.double.prompts[count:]
    assert [first.text, second.text] == ["The first one.", "The second one."]
    assert second.received_at >= first.received_at + 3 - 0.1  # after the first answer


def test_a_leading_bang_runs_a_shell_command(agent: Agent) -> None:
    """Claude Code runs it and sends the command and its output to the model as the prompt;
    Codex runs it and mostly sends nothing (once in a CI run it sent the run's record, the
    command and its output in ``<user_shell_command>``). Neither sends the text typed."""
    count = len(agent.double.texts())
    agent.pane.paste("!echo cellphone-bang")
    agent.pane.wait_for(lambda c: agent.screen.shell_mode in c, SHOW_S, agent.screen.shell_mode)
    agent.pane.press("Enter")
    if agent.name == "claude":
        agent.double.wait_for_prompts(count + 1, ANSWER_S)
    else:
        agent.pane.wait_for(lambda c: "You ran echo cellphone-bang" in c, ANSWER_S, "shell run")
    agent.wait_idle(ANSWER_S, "empty input after the command")
    ran = (
        "<bash-input>echo cellphone-bang</bash-input>\n"
        "<bash-stdout>cellphone-bang</bash-stdout><bash-stderr></bash-stderr>"
    )
    sent = agent.double.texts()[count:]
    if agent.name == "claude":
        assert sent == [ran]
    else:
        assert all(
            text.startswith("<user_shell_command>")
            and "<command>\necho cellphone-bang\n</command>" in text
            and "Output:\ncellphone-bang\n" in text
            for text in sent
        ), sent
        assert len(sent) <= 1
