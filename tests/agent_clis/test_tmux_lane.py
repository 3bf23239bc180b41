"""The tmux lane against the real agent CLIs: Claude Code, Codex CLI, Gemini CLI and Aider,
each running in a pane of a real tmux server and talking to a double of its model API on
127.0.0.1. What counts is what the model API received: every message the desk reports
"delivered via tmux, verified" arrived there exactly as typed, once; what did not arrive was
never reported delivered."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import Home, load_settings
from messaging.model import DeliveryMethod, DeliveryState, Outcome, Priority
from messaging.render import render
from messaging.runtime import Runtime, open_runtime
from tests.agent_clis import aider, claude, codex, gemini
from tests.agent_clis.model_api.anthropic import AnthropicDouble
from tests.agent_clis.model_api.base import ModelApiDouble
from tests.agent_clis.model_api.chat_completions import ChatCompletionsDouble
from tests.agent_clis.model_api.gemini import GeminiDouble
from tests.agent_clis.model_api.responses import ResponsesDouble
from tests.agent_clis.recipe import Recipe, end_processes
from tests.agent_clis.tmux import TmuxServer, in_tmux
from tests.conftest import inbox_files, make_home

pytestmark = pytest.mark.slow

CLIS: dict[str, tuple[Callable[[Path, ModelApiDouble], Recipe], type[ModelApiDouble]]] = {
    "claude": (claude.recipe, AnthropicDouble),
    "codex": (codex.recipe, ResponsesDouble),
    "gemini": (gemini.recipe, GeminiDouble),
    "aider": (aider.recipe, ChatCompletionsDouble),
}
LONG = "\n".join(f"{n:03d} the quick brown fox jumps over the lazy dog, twice." for n in range(110))
MESSAGES = {
    "short": "Report your status, please.",
    "paragraphs": "First paragraph: the parser.\n\nSecond one, a bit longer.\n\nThird: done.",
    "long": LONG,  # about 6,000 characters over 110 lines
    "slash": "/not-a-command please answer",
    "tab": "before\tafter",
    "unicode": "ünïcödé ✓ 日本語 — “quotes”",
    "dashes": "--help",
}
START_TIMEOUT_S = 90.0
ARRIVAL_TIMEOUT_S = 20.0


@dataclass
class RunningCli:
    name: str
    double: ModelApiDouble
    server: TmuxServer
    target: str
    root: Path

    def home(self, folder: Path, **entry: object) -> Home:
        agent = {"tmux": {"target": self.target, "socket": self.server.socket}, **entry}
        return make_home(folder, {"agents": {"Agent-1": agent}})


@pytest.fixture(scope="module", params=list(CLIS))
def cli(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningCli]:
    name: str = request.param
    make_recipe, double_class = CLIS[name]
    root = tmp_path_factory.mktemp(name)
    double = double_class().start()
    server = TmuxServer(root)
    try:
        recipe = in_tmux(make_recipe(root, double))
        target = server.window("Agent-1", recipe.shell_command())
        server.wait_for(target, recipe.ready, START_TIMEOUT_S)
        yield RunningCli(name, double, server, target, root)
    finally:
        server.kill()
        double.stop()
        end_processes(root)


@pytest.fixture
def fast_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELLPHONE_TMUX__HOLD_RETRY_S", "0.2")


def received(cli: str, text: str) -> str:
    """What the CLI sends its model for ``text`` pasted into it: the same text, but for the
    rewrites the README names (Claude Code turns a tab into four spaces)."""
    if cli == "claude":
        return text.replace("\t", "    ")
    return text


async def send(rt: Runtime, body: str, **options: object) -> tuple[str, Outcome]:
    """Send ``body`` to Agent-1 and wait for its final outcome: a message held while the
    agent still answers the one before goes once it is done."""
    sent = await rt.service.send(["Agent-1"], body, **options)  # type: ignore[arg-type]
    deadline = time.monotonic() + 40
    while True:
        outcome = (await rt.desk.wait_for(sent.message.id, 30))["Agent-1"]
        held = outcome.state is DeliveryState.QUEUED and "is busy" in (outcome.reason or "")
        if not held or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return render(sent.message, "Agent-1", rt.settings.messaging.footer), outcome


async def arrived(double: ModelApiDouble, count: int, timeout: float) -> list[str]:
    """The prompts once ``count`` came (or after ``timeout``), the desk running meanwhile."""
    return await asyncio.to_thread(double.wait_for_prompts, count, timeout)


def delivered(outcome: Outcome) -> bool:
    return (
        outcome.state is DeliveryState.DELIVERED
        and outcome.method is DeliveryMethod.TMUX
        and outcome.verified is True
    )


async def test_every_message_arrives_exactly_once_as_typed(cli: RunningCli, tmp_path: Path) -> None:
    home = cli.home(tmp_path / "home")
    before = len(cli.double.texts())
    expected: list[str] = []
    async with open_runtime(home, load_settings(home)) as rt:
        for case, body in MESSAGES.items():
            text, outcome = await send(rt, body)
            assert delivered(outcome), f"{cli.name}, {case}: {outcome.summary}"
            expected.append(received(cli.name, text))
            got = await arrived(cli.double, before + len(expected), ARRIVAL_TIMEOUT_S)
            assert got[before:] == expected, f"{cli.name}, {case}: the model API got {got[-1]!r}"
    assert cli.double.texts()[before:] == expected  # nothing came twice, late or joined
    letters = [path.read_text() for path in inbox_files(home, "Agent-1")]
    assert len(letters) == len(MESSAGES)
    assert all("delivered_via: tmux, verified in the pane" in letter for letter in letters)


async def operator_sends_draft(cli: RunningCli, before: int) -> None:
    """The operator presses Enter on the draft, and again while it stays unsent (a CI run saw
    Gemini CLI, busy, keep the draft in its input at the operator's Enter), as a person
    would; at most three times."""
    for _ in range(3):
        cli.server.tmux("send-keys", "-t", cli.target, "Enter")
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if len(cli.double.texts()) > before:
                return
            await asyncio.sleep(0.05)


async def test_a_draft_in_the_input_is_never_typed_over(
    cli: RunningCli, tmp_path: Path, fast_holds: None
) -> None:
    home = cli.home(tmp_path / "home")
    before = len(cli.double.texts())
    cli.server.settle(cli.target)  # the operator starts a draft once the agent answered
    cli.server.tmux("send-keys", "-t", cli.target, "-l", "operator draft in progress")
    cli.server.wait_for(cli.target, "operator draft in progress", 10)
    async with open_runtime(home, load_settings(home)) as rt:
        sent = await rt.service.send(["Agent-1"], "Do not join me to the draft.")
        outcome = (await rt.desk.wait_for(sent.message.id, 10))["Agent-1"]
        assert outcome.state is DeliveryState.QUEUED, outcome.summary
        assert "holds text the desk did not put there" in (outcome.reason or "")
        assert "operator draft in progress" in cli.server.capture(cli.target)
        assert cli.double.texts()[before:] == []
        # the operator sends the draft; the held message follows on its own
        await operator_sends_draft(cli, before)
        text = render(sent.message, "Agent-1", rt.settings.messaging.footer)
        got = await arrived(cli.double, before + 2, ARRIVAL_TIMEOUT_S)
        now = (await rt.desk.wait_for(sent.message.id, 1))["Agent-1"]
        expected = ["operator draft in progress", received(cli.name, text)]
        assert got[before:] == expected, f"{now.summary}\n{cli.server.capture(cli.target)}"
        final = await rt.desk.wait_for(sent.message.id, 1)
        assert delivered(final["Agent-1"]), final["Agent-1"].summary


async def test_a_busy_agent_holds_normal_messages_and_takes_critical_ones(
    cli: RunningCli, tmp_path: Path, fast_holds: None
) -> None:
    """While the agent works, a normal message waits for it; a critical one is pasted at
    once where the CLI keeps its input open (it queues it), and waits too where it does not
    (Aider, which would read it line by line at its next prompt)."""
    home = cli.home(tmp_path / "home")
    before = len(cli.double.texts())
    cli.double.delay_s = 6.0
    try:
        async with open_runtime(home, load_settings(home)) as rt:
            first, outcome = await send(rt, "Think about this for a while.")
            if "typed but not submitted" in (outcome.reason or ""):
                # an honest miss (a CI run saw Gemini CLI keep its first Enter's text for
                # 2 s): the next message clears what it left and goes alone
                before = len(cli.double.texts())
                first, outcome = await send(rt, "Think about this for a while, again.")
            assert delivered(outcome), outcome.summary
            await arrived(cli.double, before + 1, ARRIVAL_TIMEOUT_S)
            normal = await rt.service.send(["Agent-1"], "A normal one, after.")
            held = (await rt.desk.wait_for(normal.message.id, 10))["Agent-1"]
            assert held.state is DeliveryState.QUEUED, held.summary
            assert "held: Agent-1 is busy" in (held.reason or "")
            critical = await rt.service.send(
                ["Agent-1"], "Stop after this step.", priority=Priority.CRITICAL
            )
            urgent = (await rt.desk.wait_for(critical.message.id, 10))["Agent-1"]
            if cli.name == "aider":
                assert urgent.state is DeliveryState.QUEUED, urgent.summary
                assert "has no input to paste into" in (urgent.reason or "")
            else:
                assert delivered(urgent), urgent.summary
            assert cli.double.texts()[before:] == [received(cli.name, first)]
            cli.double.delay_s = 0.0
            footer = rt.settings.messaging.footer
            expected = [
                received(cli.name, first),
                received(cli.name, render(critical.message, "Agent-1", footer)),
                received(cli.name, render(normal.message, "Agent-1", footer)),
            ]
            got = await arrived(cli.double, before + 3, ARRIVAL_TIMEOUT_S + 6)
            assert got[before:] == expected
            for message_id in (normal.message.id, critical.message.id):
                done = (await rt.desk.wait_for(message_id, 5))["Agent-1"]
                assert delivered(done), done.summary
    finally:
        cli.double.delay_s = 0.0


async def test_text_left_unsubmitted_is_reported_then_cleared(
    cli: RunningCli, tmp_path: Path
) -> None:
    """Keys that do not submit (F5 here) leave the text in the input: reported typed but not
    submitted, written to the inbox, and cleared before the next message, which goes alone."""
    before = len(cli.double.texts())
    stuck = cli.home(tmp_path / "home", submit_keys="f5")
    async with open_runtime(stuck, load_settings(stuck)) as rt:
        _, outcome = await send(rt, "Left in the input.")
    assert outcome.state is DeliveryState.FALLBACK, outcome.summary
    assert "typed but not submitted" in (outcome.reason or "")
    shown = cli.server.capture(cli.target)  # the text, or the CLI's placeholder for a paste
    assert "Left in the input." in shown or "[Pasted" in shown, shown
    document = json.loads(stuck.coordinates_file.read_text())
    del document["agents"]["Agent-1"]["submit_keys"]
    stuck.coordinates_file.write_text(json.dumps(document))
    async with open_runtime(stuck, load_settings(stuck)) as rt:
        text, outcome = await send(rt, "The next one, alone.", priority=Priority.URGENT)
    assert delivered(outcome), outcome.summary
    got = await arrived(cli.double, before + 1, ARRIVAL_TIMEOUT_S)
    assert got[before:] == [received(cli.name, text)]
