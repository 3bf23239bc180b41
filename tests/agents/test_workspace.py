"""An agent's workspace: folders under agent_workspaces/<id>, symlinks allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents import Agent, Workspace, WorkspaceError
from agents.source import RegistrySource
from agents.workspace import create_workspaces
from config import Home


def agent(agent_id: str) -> Agent:
    return Agent(agent_id, "", True, None, None)


def test_a_workspace_may_be_a_symlink_to_the_agents_project(tmp_path: Path, home: Home) -> None:
    project = tmp_path / "projects" / "backend"
    project.mkdir(parents=True)
    link = home.workspaces_dir / "Agent-3"
    link.rename(tmp_path / "old-Agent-3")
    link.symlink_to(project, target_is_directory=True)
    workspace = Workspace.of(home.workspaces_dir, agent("Agent-3"))
    assert workspace.root == link and workspace.inbox == link / "inbox"
    create_workspaces(home.workspaces_dir, RegistrySource(home.coordinates_file).current())
    assert (project / "inbox").is_dir() and (project / "devlogs").is_dir()


@pytest.mark.parametrize("bad", ["../x", "Agent-1/../../etc", "..", "/etc", "Agent-1\n", ""])
def test_an_id_that_is_no_single_name_never_becomes_a_path(tmp_path: Path, bad: str) -> None:
    with pytest.raises(WorkspaceError, match="cannot name a folder") as caught:
        Workspace.of(tmp_path, agent(bad))
    assert repr(bad) in str(caught.value)


def test_a_dangling_workspace_link_is_a_clear_error(tmp_path: Path, home: Home) -> None:
    link = home.workspaces_dir / "Agent-2"
    link.rename(tmp_path / "old-Agent-2")
    link.symlink_to(tmp_path / "gone", target_is_directory=True)
    with pytest.raises(WorkspaceError, match="point it at an existing folder"):
        Workspace.of(home.workspaces_dir, agent("Agent-2")).create()
