"""``cellphone onboard`` and ``cellphone demo``: the commands that type into chat panes
beyond send and broadcast. Add them to the root CLI with :func:`register`. The commands
import the display libraries themselves (``gui``, ``demo``), as the root ``cellphone``
module explains."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from config.cli import HomeOption, JsonOption, console, error_console, open_home

if TYPE_CHECKING:
    from config.settings import Home, Settings
    from messaging.model import Outcome
    from messaging.service import Submission

DEMO_GREETING = (
    "Hello, swarm! 👋 This is a broadcast from agent-cellphone.\n"
    "Each of you got this text typed into your chat — unicode ✓, emoji 🚀, two lines."
)


def register(app: typer.Typer) -> None:
    app.command()(onboard)
    app.command()(demo)


def onboard(
    agent: Annotated[str | None, typer.Argument(help="The agent to onboard.")] = None,
    all_agents: Annotated[bool, typer.Option("--all", help="Every active agent.")] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send each agent its onboarding text (template: config/onboarding.md in the home) at
    its onboarding point, after the new-chat hotkey when gui.new_chat_hotkey is set."""
    if all_agents == (agent is not None):
        error_console().print("error: name one AGENT or pass --all")
        raise typer.Exit(2)
    import asyncio

    from messaging.model import DeliveryState
    from messaging.reporting import report

    where, settings = open_home(home)
    results, desk_here = asyncio.run(_onboard(where, settings, agent, all_agents))
    if as_json:
        sys.stdout.write(json.dumps([_result_json(s, o) for s, o in results], indent=2) + "\n")
    else:
        for submission, outcomes in results:
            report(submission, outcomes, as_json=False, desk_here=desk_here)
    delivered = all(
        o.state is DeliveryState.DELIVERED for _, outcomes in results for o in outcomes.values()
    )
    raise typer.Exit(0 if delivered else 1)


async def _onboard(
    where: Home, settings: Settings, agent: str | None, all_agents: bool
) -> tuple[list[tuple[Submission, dict[str, Outcome]]], bool]:
    from agents.onboarding import onboarding_texts
    from messaging.runtime import open_runtime
    from messaging.screen.gui import screen_for

    screen = screen_for(settings)
    try:
        async with open_runtime(where, settings, screen) as rt:
            registry = rt.registry.current()
            ids = [a.agent_id for a in registry.active()] if all_agents else [agent or ""]
            texts = onboarding_texts(where, registry, registry.resolve(ids))
            submissions = await rt.service.onboard(texts)
            timeout = settings.messaging.wait_timeout_s
            results = [(s, await rt.desk.wait_for(s.message.id, timeout)) for s in submissions]
            return results, rt.desk_here
    finally:
        if screen is not None:
            screen.close()


def demo(
    png: Annotated[
        Path, typer.Option("--png", help="Where to save the screenshot of the desktop.")
    ] = Path("cellphone-demo.png"),
    greeting: Annotated[str, typer.Option(help="The text to broadcast.")] = DEMO_GREETING,
    tmux: Annotated[
        bool,
        typer.Option(
            "--tmux", help="Terminal agents in tmux panes instead: no display, no screenshot."
        ),
    ] = False,
    home: HomeOption = None,
) -> None:
    """See it work without real agents: a virtual two-monitor X display with a stand-in
    chat window per example agent, a broadcast typed into every window, and a screenshot;
    with --tmux, a terminal chat program per agent in tmux panes, and what each pane shows."""
    from agents.home import example_coordinates, prepare_home
    from config.settings import load_settings, resolve_home

    where = resolve_home(home or Path(tempfile.mkdtemp(prefix="cellphone-demo-")))
    if tmux:
        _tmux_demo(where, greeting, home is not None)
        return
    from messaging.screen import demo as demo_run

    out = console()

    prepare_home(where, example_coordinates(calibrated=True))  # the windows stand there
    placeholders = _placeholders(where)
    if placeholders:
        error_console().print(
            f"error: the chat points of {', '.join(placeholders)} in {where.coordinates_file} "
            "are placeholders (cellphone init), so the demo would type nowhere; run "
            "`cellphone demo` without --home (it makes a home of its own) or calibrate them "
            "with `cellphone coords calibrate --all`",
        )
        raise typer.Exit(2)
    settings = load_settings(where)
    try:
        outcomes = demo_run.run_demo(where, settings, greeting, png, out)
    except demo_run.DEMO_ERRORS as exc:
        error_console().print(f"error: {exc}")
        raise typer.Exit(2) from None
    for outcome in outcomes.values():
        out.print(f"{outcome.agent_id}: {outcome.summary}")
    out.print(f"home: {where.root}")
    out.print(f"screenshot of the whole desktop: {png.resolve()}")
    _exit_unless_delivered(outcomes)


def _tmux_demo(where: Home, greeting: str, given_home: bool) -> None:
    from agents.home import prepare_home
    from config.settings import load_settings
    from messaging.tmux import demo as tmux_demo

    if given_home and where.coordinates_file.exists():
        error_console().print(
            f"error: {where.root} has a coordinates file already; the tmux demo writes its own:"
            " run `cellphone demo --tmux` without --home (it makes a home of its own)"
        )
        raise typer.Exit(2)
    tmux_demo.save_coordinates_for_demo(where)
    prepare_home(where)
    try:
        outcomes, shown = tmux_demo.run_tmux_demo(where, load_settings(where), greeting)
    except tmux_demo.TmuxDemoError as exc:
        error_console().print(f"error: {exc}")
        raise typer.Exit(2) from None
    out = console()
    out.print(shown)
    for outcome in outcomes.values():
        out.print(f"{outcome.agent_id}: {outcome.summary}")
    out.print(f"home: {where.root}")
    _exit_unless_delivered(outcomes)


def _exit_unless_delivered(outcomes: dict[str, Outcome]) -> None:
    from messaging.model import DeliveryState

    if any(o.state is not DeliveryState.DELIVERED for o in outcomes.values()):
        raise typer.Exit(1)


def _placeholders(where: Home) -> list[str]:
    """The active agents whose chat point was never calibrated."""
    from agents.source import RegistrySource

    registry = RegistrySource(where.coordinates_file).current()
    return [a.agent_id for a in registry.active() if "chat" in a.uncalibrated]


def _result_json(submission: Submission, outcomes: dict[str, Outcome]) -> dict[str, Any]:
    return {
        "message_id": submission.message.id,
        "outcomes": [
            {
                "agent": o.agent_id,
                "state": str(o.state),
                "method": str(o.method) if o.method else None,
                "reason": o.reason,
            }
            for o in outcomes.values()
        ],
    }
