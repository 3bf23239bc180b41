"""Making a home ready: coordinates file, settings file, workspaces, state folder."""

from __future__ import annotations

import json
from importlib import resources

from agents.registry import Registry
from agents.workspace import create_workspaces
from config import Home
from coordinates import load_coordinates
from coordinates.file import UNCALIBRATED_KEY, write_atomic


def example_coordinates(*, calibrated: bool = False) -> str:
    """Agent-1..Agent-8, four per monitor, on two 1920x1080 monitors side by side.

    The points are placeholders (marked "uncalibrated": nothing is typed there) unless
    ``calibrated``: for a desktop built to match them, like the demo's.
    """
    text = (resources.files("config") / "examples" / "coordinates.example.json").read_text("utf-8")
    if not calibrated:
        return text
    document = json.loads(text)
    for entry in document["agents"].values():
        entry.pop(UNCALIBRATED_KEY, None)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def tmux_example_coordinates(session: str, socket: str | None = None) -> str:
    """Agent-1..Agent-8 as terminal agents in tmux: each in the window of ``session`` named
    after it (``swarm:Agent-3``), on the default tmux server or the one named ``socket``."""
    document = json.loads(example_coordinates())
    for agent_id, entry in document["agents"].items():
        target = f"{session}:{agent_id}"
        kept = {k: entry[k] for k in ("description", "active") if k in entry}
        entry.clear()
        entry["tmux"] = target if socket is None else {"target": target, "socket": socket}
        entry.update(kept)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def example_settings() -> str:
    return (resources.files("config") / "examples" / "cellphone.example.toml").read_text("utf-8")


def prepare_home(home: Home, coordinates: str | None = None) -> Registry:
    """Write ``coordinates`` (the example when None) unless a coordinates file exists,
    the example settings unless a settings file exists, and every agent's folders."""
    home.config_dir.mkdir(parents=True, exist_ok=True)
    if not home.coordinates_file.exists():
        write_atomic(home.coordinates_file, coordinates or example_coordinates())
    if not home.settings_file.exists():
        write_atomic(home.settings_file, example_settings())
    registry = Registry.from_file(load_coordinates(home.coordinates_file))
    create_workspaces(home.workspaces_dir, registry)
    home.var_dir.mkdir(parents=True, exist_ok=True)
    return registry
