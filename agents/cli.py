"""``cellphone init`` and ``cellphone agents``. What the commands do is loaded when one runs
(``cellphone --help`` lists them without it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from config.cli import HomeOption, JsonOption, console, open_home, print_json

if TYPE_CHECKING:
    from config.settings import Settings


RemoteRows = Callable[["Settings", set[str]], list[dict[str, Any]]]
"""The agents other machines' desks serve, as rows of ``cellphone agents``, given the
settings and the ids of this machine's agents (the cluster offers it: see ``cellphone``)."""


def register(app: typer.Typer, remote_rows: RemoteRows | None = None) -> None:
    app.command()(init)

    def agents_command(home: HomeOption = None, as_json: JsonOption = False) -> None:
        list_agents(home, as_json, remote_rows)

    app.command("agents", help=agents.__doc__)(agents_command)


def init(
    home: HomeOption = None,
    force: Annotated[
        bool, typer.Option(help="Replace an existing coordinates file (a copy is kept).")
    ] = False,
    tmux: Annotated[
        str | None,
        typer.Option(
            metavar="SESSION",
            help="Terminal agents in tmux instead: Agent-N in window Agent-N of this session.",
        ),
    ] = None,
) -> None:
    """Create a home: example coordinates for Agent-1..Agent-8 on two monitors (or in the
    windows of a tmux session), settings and every agent's workspace folders."""
    from agents.home import prepare_home, tmux_example_coordinates
    from config.settings import resolve_home
    from coordinates.tmux import parse_tmux

    where = resolve_home(home)
    example = None
    if tmux is not None:
        try:
            parse_tmux(f"{tmux}:Agent-1")
        except ValueError:
            raise typer.BadParameter(
                f"{tmux!r} is not a tmux session name; use letters, digits, '-' or '_'",
                param_hint="--tmux",
            ) from None
        if ":" in tmux or "." in tmux:
            raise typer.BadParameter(
                f"{tmux!r}: give the session name alone (no ':' or '.')", param_hint="--tmux"
            )
        example = tmux_example_coordinates(tmux)
    out = console()
    coords = where.coordinates_file
    if coords.exists() and force:
        backup = _backup_name(coords)
        backup.write_bytes(coords.read_bytes())
        coords.unlink()
        out.print(f"previous coordinates kept as {backup}")
    elif coords.exists():
        out.print(f"kept existing {coords} (use --force to replace it)")
    registry = prepare_home(where, example)
    out.print(f"coordinates: {coords}")
    out.print(f"settings: {where.settings_file}")
    out.print(f"{len(registry)} agent workspaces under {where.workspaces_dir}")
    if tmux is not None:
        out.print(
            f"next: start each agent in its window, e.g. `tmux new-session -d -s {tmux} -n "
            f"Agent-1 claude` then `tmux new-window -t {tmux} -n Agent-2 codex`; check with "
            '`cellphone coords check`, then `cellphone broadcast "hello"`'
        )
        return
    out.print(
        "next: edit the points with `cellphone coords calibrate --all`, "
        'then `cellphone broadcast "hello"`'
    )


def agents(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """List the agents of the coordinates file and, at a coordinator, those the desks of
    other machines serve, each with its desk and whether that desk is alive."""
    list_agents(home, as_json, None)


def list_agents(home: Path | None, as_json: bool, remote_rows: RemoteRows | None) -> None:
    """:func:`agents`, with the agents of other machines from ``remote_rows`` (none
    without it)."""
    from rich.table import Table

    from agents.registry import Registry
    from agents.workspace import Workspace
    from coordinates.file import load_coordinates

    where, settings = open_home(home)
    registry = Registry.from_file(load_coordinates(where.coordinates_file))
    rows: list[dict[str, Any]] = [
        {
            "id": agent.agent_id,
            "role": agent.description,
            "active": agent.active,
            "chat_point": list(agent.chat_point) if agent.chat_point else None,
            "onboarding_point": list(agent.onboarding_point) if agent.onboarding_point else None,
            "tmux": str(agent.tmux) if agent.tmux else None,
            "inbox": str(Workspace.of(where.workspaces_dir, agent).inbox),
            "desk": None,  # this machine's
        }
        for agent in registry
    ]
    if settings.cluster.redis_url is not None and remote_rows is not None:
        rows += remote_rows(settings, set(registry.ids))
    if as_json:
        print_json(rows)
        return
    table = Table(
        "agent", "role", "active", "chat point or tmux pane", "onboarding point", "inbox", "desk"
    )
    for row in rows:
        table.add_row(
            row["id"],
            row["role"],
            "yes" if row["active"] else "no",
            f"tmux {row['tmux']}" if row["tmux"] else _point(row["chat_point"]),
            _point(row["onboarding_point"]),
            row["inbox"] or f"on desk {row['desk']['name']}",
            _desk(row["desk"]),
        )
    console().print(table)


def _desk(desk: dict[str, Any] | None) -> str:
    if desk is None:
        return "here"
    if desk["presence"] == "gone":
        return f"{desk['name']}: gone, no heartbeat for over {desk['gone_after_s']:g} s"
    if desk["presence"] == "away":
        return f"{desk['name']}: away, silent {desk['silent_s']:g} s"
    return f"{desk['name']}: alive"


def _backup_name(path: Path) -> Path:
    """``coordinates.json.<time>.before-init``: every replaced file is kept, none overwritten."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    backup = path.with_name(f"{path.name}.{stamp}.before-init")
    while backup.exists():  # two inits in the same microsecond
        backup = backup.with_name(backup.name + "~")
    return backup


def _point(point: list[int] | None) -> str:
    return f"({point[0]}, {point[1]})" if point else "-"
