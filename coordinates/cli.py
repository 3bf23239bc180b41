"""``cellphone coords check | calibrate | show``: the agents' screen points against the live
monitor layout.

Mount with ``root.add_typer(coordinates.cli.app, name="coords")``. ``--home`` is taken
before the command (``cellphone coords --home H check``) or after it. Each command imports
the modules that reach the display (layout, calibrate, picture) itself, as the root
``cellphone`` module explains.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from config.cli import console, error_console, home_folder, styled
from config.errors import ConfigError
from coordinates.errors import (
    CalibrationError,
    ClickListenerError,
    CoordinatesFileError,
    InvalidCoordinatesError,
    LayoutPictureError,
    NoDisplayError,
)
from coordinates.file import CLICK_TIMEOUT_S, AgentEntry, Point, load_coordinates
from coordinates.typing import DEFAULT_TYPING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from config.settings import Home
    from coordinates.calibrate import Calibrated
    from coordinates.layout import Layout

EXIT_INVALID, EXIT_ERROR = 1, 2
log = logging.getLogger(__name__)
T = TypeVar("T")
ERRORS = (CoordinatesFileError, NoDisplayError, CalibrationError, ConfigError, LayoutPictureError)

app = typer.Typer(
    help="Check, calibrate and draw the agents' screen points.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

HomeArg = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Home folder of the swarm (default: $CELLPHONE_HOME, else the current folder).",
        show_default=False,
        parser=home_folder,
    ),
]


@app.callback()
def _home(ctx: typer.Context, home: HomeArg = None) -> None:
    ctx.obj = home


@app.command()
def check(
    ctx: typer.Context,
    home: HomeArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Each agent's points against the live monitors, and each tmux target against the
    panes tmux has; exit 1 if an active agent's point is on no monitor or its pane is gone."""
    from coordinates.layout import read_layout

    where = _resolve(ctx, home)
    agents = _guard(lambda: load_coordinates(where.coordinates_file)).agents.values()
    on_screen = [a for a in agents if a.tmux is None]
    layout = _guard(read_layout) if on_screen or not agents else None
    rows = [row for agent in on_screen for row in _rows(agent, layout)] if layout else []
    _add_empty_looks(where, rows)
    panes = [_pane_row(agent) for agent in agents if agent.tmux is not None]
    if as_json:
        monitors = _monitors(layout) if layout else []
        document = {"monitors": monitors, "points": rows, "panes": panes}
        sys.stdout.write(json.dumps(document, indent=2))
        sys.stdout.write("\n")
    else:
        if layout is not None:
            _print_check(rows, layout)
        if panes:
            _print_panes(panes)
    if any(row["active"] and not row["valid"] for row in [*rows, *panes]):
        raise typer.Exit(EXIT_INVALID)


@app.command("calibrate")
def calibrate_command(
    ctx: typer.Context,
    agent: Annotated[str | None, typer.Argument(help="The agent to calibrate.")] = None,
    all_agents: Annotated[bool, typer.Option("--all", help="Every active agent in turn.")] = False,
    onboarding: Annotated[
        bool, typer.Option("--onboarding", help="Record the onboarding input, not the chat input.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for each click.", min=1)
    ] = CLICK_TIMEOUT_S,
    home: HomeArg = None,
) -> None:
    """Click each agent's chat input (or onboarding input) when asked; the points are checked
    against the live monitors and saved (the previous file is kept as a timestamped copy)."""
    from coordinates.layout import read_layout

    where = _resolve(ctx, home)
    document = _guard(lambda: load_coordinates(where.coordinates_file))
    if all_agents == (agent is not None):
        _fail("name one AGENT or pass --all")
    targets = [a.agent_id for a in document.agents.values() if a.active] if all_agents else [agent]
    kind = "onboarding" if onboarding else "chat"
    layout = _guard(read_layout)
    out = console()
    failed = 0
    for agent_id in targets:
        assert agent_id is not None
        try:
            done = _guard(
                partial(
                    _calibrate_one,
                    where,
                    document.agents.get(agent_id),
                    agent_id,
                    kind,
                    layout,
                    timeout,
                    out,
                ),
                exit_on=(CoordinatesFileError, NoDisplayError, ConfigError, ClickListenerError),
            )
        except (InvalidCoordinatesError, CalibrationError) as exc:
            failed += 1
            out.print(styled((f"{agent_id}: not saved:", "red"), f" {exc}"))
            continue
        out.print(
            styled((agent_id, "green"), f": {kind} point {done.point} on {done.monitor} saved")
        )
    if failed:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def show(
    ctx: typer.Context,
    png: Annotated[Path, typer.Option("--png", help="Where to write the picture.")],
    home: HomeArg = None,
) -> None:
    """Draw the monitors and every agent's points into a PNG."""
    from coordinates.layout import read_layout
    from coordinates.picture import save_layout_png

    where = _resolve(ctx, home)
    layout = _guard(read_layout)
    agents = _guard(lambda: load_coordinates(where.coordinates_file)).agents.values()
    path = _guard(lambda: save_layout_png(layout, agents, png))
    console().print(f"layout picture: {path}")


# -- helpers ---------------------------------------------------------------------------


def _calibrate_one(
    where: Home,
    entry: AgentEntry | None,
    agent_id: str,
    kind: str,
    layout: Layout,
    timeout: float,
    out: Console,
) -> Calibrated:
    from coordinates.calibrate import calibrate, record_click

    role = f" ({entry.description})" if entry and entry.description else ""
    prompt = f"Click the {kind} input of {agent_id}{role}, with nothing in it, within {timeout:g}s…"

    def click() -> Point:
        return record_click(timeout, on_ready=lambda: out.print(prompt))

    done = calibrate(where.coordinates_file, agent_id, kind, layout, click)
    _record_empty_look(where, entry, done)
    return done


def _record_empty_look(where: Home, entry: AgentEntry | None, done: Calibrated) -> None:
    """The input was just clicked, empty: the desk keeps its look to see drafts in it. A
    look that cannot be taken costs only that (the first verified delivery takes one)."""
    from messaging.screen.calibration import record_empty_look
    from messaging.screen.x11 import X11Error

    typing = entry.typing if entry is not None else DEFAULT_TYPING
    try:
        record_empty_look(
            where.var_dir / "looks",
            done.agent_id,
            done.kind == "onboarding",
            done.point,
            typing.verify_region,
        )
    except (X11Error, OSError) as exc:
        log.warning("no empty look of %s's %s input kept: %s", done.agent_id, done.kind, exc)


def _resolve(ctx: typer.Context, home: Path | None) -> Home:
    from config.settings import resolve_home

    return _guard(lambda: resolve_home(home or ctx.obj))


def _guard(action: Callable[[], T], exit_on: tuple[type[Exception], ...] = ERRORS) -> T:
    try:
        return action()
    except exit_on as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    error_console().print(f"error: {message}")
    raise typer.Exit(EXIT_ERROR)


def _rows(agent: AgentEntry, layout: Layout) -> list[dict[str, Any]]:
    rows = []
    for kind, point in (("chat", agent.chat_point), ("onboarding", agent.onboarding_point)):
        if point is None:
            continue
        monitor = layout.monitor_at(point)
        problem = layout.problem(point)
        if kind in agent.uncalibrated:
            flag = "--onboarding " if kind == "onboarding" else ""
            problem = (
                f"a placeholder, not calibrated: run "
                f"`cellphone coords calibrate {flag}{agent.agent_id}`"
            )
        rows.append(
            {
                "agent": agent.agent_id,
                "active": agent.active,
                "kind": kind,
                "point": list(point),
                "valid": monitor is not None and kind not in agent.uncalibrated,
                "monitor": monitor.name if monitor else None,
                "problem": problem,
                "paste_keys": agent.typing.paste,
                "submit_keys": agent.typing.submit,
                "clear_keys": ["+".join(combo) for combo in agent.typing.clear_keys],
                "verify": agent.typing.verify,
                "verify_region": list(agent.typing.verify_region),
            }
        )
    return rows


def _add_empty_looks(where: Home, rows: list[dict[str, Any]]) -> None:
    """Each point's empty look as the desk knows it (``empty_look``): where it is not known,
    the first delivery asks the input whether it holds text before typing."""
    from messaging.screen.calibration import empty_look_state

    for row in rows:
        row["empty_look"] = empty_look_state(
            where.var_dir / "looks", row["agent"], row["kind"] == "onboarding"
        )


def _pane_row(agent: AgentEntry) -> dict[str, Any]:
    from coordinates.tmux import clear_keys_in_tmux, locate

    assert agent.tmux is not None
    pane, problem = locate(agent.tmux)
    return {
        "agent": agent.agent_id,
        "active": agent.active,
        "target": agent.tmux.target,
        "socket": agent.tmux.socket,
        "valid": problem is None,
        "pane": pane,
        "problem": problem,
        "submit_keys": agent.typing.submit,
        "clear_keys": ["+".join(combo) for combo in clear_keys_in_tmux(agent.typing)],
    }


def _print_panes(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table("agent", "tmux target", "pane or why not", "keys")
    for row in rows:
        ok = ("ok", "green") if row["valid"] else ("invalid", "red")
        inactive = "" if row["active"] else " (inactive)"
        socket = f" (socket {row['socket']})" if row["socket"] else ""
        table.add_row(
            row["agent"],
            row["target"] + socket,
            styled(ok, f"{inactive} {row['problem'] or row['pane']}"),
            f"submit {row['submit_keys']}, clear {', '.join(row['clear_keys'])}",
        )
    console().print(table)


def _monitors(layout: Layout) -> list[dict[str, Any]]:
    return [
        {
            "name": m.name,
            "x": m.x,
            "y": m.y,
            "width": m.width,
            "height": m.height,
            "primary": m.primary,
        }
        for m in layout.monitors
    ]


def _verify_cell(row: dict[str, Any]) -> str | Text:
    if not row["verify"]:
        return styled(("off", "yellow"), " (deliveries unverified)")
    width, height = row["verify_region"]
    return f"on screen, {width}x{height}"


def _print_check(rows: list[dict[str, Any]], layout: Layout) -> None:
    out = console()
    out.print(f"monitors: {layout.describe()}")
    from rich.table import Table

    table = Table("agent", "kind", "point", "monitor or why not", "keys", "verify")
    for row in rows:
        ok = ("ok", "green") if row["valid"] else ("invalid", "red")
        inactive = "" if row["active"] else " (inactive)"
        table.add_row(
            row["agent"],
            row["kind"],
            f"({row['point'][0]}, {row['point'][1]})",
            styled(ok, f"{inactive} {row['problem'] or row['monitor']}"),
            f"paste {row['paste_keys']}, submit {row['submit_keys']}, "
            f"clear {', '.join(row['clear_keys'])}",
            _verify_cell(row),
        )
    out.print(table)
    unknown = [
        f"{row['agent']}{' (onboarding)' if row['kind'] == 'onboarding' else ''}"
        for row in rows
        if row["active"] and row["empty_look"] == "unknown"
    ]
    if unknown:
        out.print(
            f"empty look not known yet: {', '.join(unknown)}; the first delivery selects the "
            "input's text to see whether it holds a draft (or run `cellphone coords "
            "calibrate AGENT` with the input empty)"
        )
