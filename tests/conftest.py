"""Fixtures shared by the whole suite: a fresh home on disk and the runtime over it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agents.home import example_coordinates, prepare_home
from config import Home, Settings, load_settings
from messaging.runtime import Runtime, open_runtime


def make_home(root: Path, coordinates: dict | None = None) -> Home:
    """A home like `cellphone init` makes (the CLI tests check init itself), its example
    points taken as calibrated: the screens of these tests stand where the points say."""
    home = Home(root)
    text = json.dumps(coordinates) if coordinates is not None else None
    prepare_home(home, text or example_coordinates(calibrated=True))
    return home


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return make_home(tmp_path / "home")


@pytest.fixture
def settings(home: Home) -> Settings:
    return load_settings(home)


@pytest.fixture
async def runtime(home: Home, settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(home, settings) as rt:
        yield rt


def inbox_files(home: Home, agent_id: str) -> list[Path]:
    return sorted((home.workspaces_dir / agent_id / "inbox").glob("*.md"))
