"""``cellphone init`` and ``cellphone agents``."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

import typer
from rich.table import Table

from agents.registry import Registry
from agents.workspace import Workspace, create_workspaces
from config import resolve_home
from config.cli import HomeOption, JsonOption, console, open_home, print_json
from coordinates import load_coordinates
from coordinates.file import write_atomic


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(agents)


def example_coordinates() -> str:
    return (resources.files("config") / "examples" / "coordinates.example.json").read_text("utf-8")


def example_settings() -> str:
    return (resources.files("config") / "examples" / "cellphone.example.toml").read_text("utf-8")


def init(
    home: HomeOption = None,
    force: Annotated[
        bool, typer.Option(help="Replace an existing coordinates file (a copy is kept).")
    ] = False,
) -> None:
    """Create a home: example coordinates for Agent-1..Agent-8 on two monitors, settings
    and every agent's workspace folders."""
    where = resolve_home(home)
    where.config_dir.mkdir(parents=True, exist_ok=True)
    out = console()
    coords = where.coordinates_file
    if coords.exists() and not force:
        out.print(f"kept existing {coords} (use --force to replace it)")
    else:
        if coords.exists():
            backup = coords.with_name(coords.name + ".before-init")
            backup.write_bytes(coords.read_bytes())
            out.print(f"previous coordinates kept as {backup}")
        write_atomic(coords, example_coordinates())
        out.print(f"wrote {coords}")
    if not where.settings_file.exists():
        write_atomic(where.settings_file, example_settings())
        out.print(f"wrote {where.settings_file}")
    registry = Registry.from_file(load_coordinates(coords))
    workspaces = create_workspaces(where.workspaces_dir, registry)
    where.var_dir.mkdir(parents=True, exist_ok=True)
    out.print(f"{len(workspaces)} agent workspaces under {where.workspaces_dir}")
    out.print(
        "next: edit the points with `cellphone coords calibrate --all`, "
        'then `cellphone broadcast "hello"`'
    )


def agents(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """List the agents of the coordinates file."""
    where, _settings = open_home(home)
    registry = Registry.from_file(load_coordinates(where.coordinates_file))
    rows: list[dict[str, Any]] = [
        {
            "id": agent.agent_id,
            "role": agent.description,
            "active": agent.active,
            "chat_point": list(agent.chat_point) if agent.chat_point else None,
            "onboarding_point": list(agent.onboarding_point) if agent.onboarding_point else None,
            "inbox": str(Workspace.of(where.workspaces_dir, agent).inbox),
        }
        for agent in registry
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("agent", "role", "active", "chat point", "onboarding point", "inbox")
    for row in rows:
        table.add_row(
            row["id"],
            row["role"],
            "yes" if row["active"] else "no",
            _point(row["chat_point"]),
            _point(row["onboarding_point"]),
            row["inbox"],
        )
    console().print(table)


def _point(point: list[int] | None) -> str:
    return f"({point[0]}, {point[1]})" if point else "-"
