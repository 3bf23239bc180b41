from __future__ import annotations

from pathlib import Path

import pytest

from agents import Registry, UnknownAgentError, Workspace
from agents.registry import InactiveAgentError
from agents.source import RegistrySource
from config import Home
from coordinates import load_coordinates
from tests.conftest import make_home


def test_registry_from_example_home(home: Home) -> None:
    registry = Registry.from_file(load_coordinates(home.coordinates_file))
    assert registry.ids == [f"Agent-{n}" for n in range(1, 9)]  # natural order
    assert registry.get("Agent-3").chat_point is not None


@pytest.mark.parametrize("bad", ["../x", "Agent-1/../../etc", "agent-1", "Agent-9", "", " Agent-1"])
def test_unknown_ids_name_the_known_ones(home: Home, bad: str) -> None:
    registry = Registry.from_file(load_coordinates(home.coordinates_file))
    with pytest.raises(UnknownAgentError) as caught:
        registry.resolve([bad])
    assert repr(bad) in str(caught.value)
    assert "known agents: Agent-1, Agent-2" in str(caught.value)


def test_inactive_agent_cannot_be_messaged(tmp_path: Path) -> None:
    home = make_home(tmp_path, {"agents": {"Agent-1": {"active": False}, "Agent-2": {}}})
    registry = Registry.from_file(load_coordinates(home.coordinates_file))
    with pytest.raises(InactiveAgentError, match='set "active": true'):
        registry.resolve(["Agent-1"])
    assert registry.resolve(["Agent-2", "Agent-2"]) == ["Agent-2"]


def test_workspace_folders_are_made_per_agent(home: Home) -> None:
    registry = Registry.from_file(load_coordinates(home.coordinates_file))
    workspace = Workspace.of(home.workspaces_dir, registry.get("Agent-5"))
    assert workspace.inbox == home.workspaces_dir.resolve() / "Agent-5" / "inbox"
    assert workspace.inbox.is_dir() and workspace.outbox.is_dir() and workspace.devlogs.is_dir()


def test_source_reloads_on_edit_and_keeps_last_good(tmp_path: Path) -> None:
    home = make_home(tmp_path, {"agents": {"Agent-1": {"chat_input_coordinates": [1, 1]}}})
    source = RegistrySource(home.coordinates_file)
    assert source.current().get("Agent-1").chat_point == (1, 1)
    home.coordinates_file.write_text(
        '{"agents": {"Agent-1": {"chat_input_coordinates": [5, 6]}, "Agent-2": {}}}'
    )
    assert source.current().get("Agent-1").chat_point == (5, 6)
    home.coordinates_file.write_text('{"agents": ')
    assert source.current().ids == ["Agent-1", "Agent-2"]
    assert source.last_error is not None and "not valid JSON" in source.last_error
