"""An agent's folders under ``agent_workspaces/<id>/``: inbox, outbox, devlogs, status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agents.registry import Agent, Registry

FOLDERS = ("inbox", "outbox", "devlogs")


class WorkspaceError(OSError):
    """A workspace folder cannot be created or used."""


@dataclass(frozen=True)
class Workspace:
    """Folders of one registered agent. Build it from an :class:`Agent`, never from a raw id,
    so no string from outside becomes a path unchecked."""

    root: Path
    agent_id: str

    @classmethod
    def of(cls, workspaces_dir: Path, agent: Agent) -> Workspace:
        root = (workspaces_dir / agent.agent_id).resolve()
        if root.parent != workspaces_dir.resolve():
            raise WorkspaceError(f"agent id {agent.agent_id!r} would leave {workspaces_dir}")
        return cls(root=root, agent_id=agent.agent_id)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def devlogs(self) -> Path:
        return self.root / "devlogs"

    @property
    def status_file(self) -> Path:
        return self.root / "status.json"

    def create(self) -> None:
        for name in FOLDERS:
            (self.root / name).mkdir(parents=True, exist_ok=True)


def create_workspaces(workspaces_dir: Path, registry: Registry) -> list[Workspace]:
    workspaces = [Workspace.of(workspaces_dir, agent) for agent in registry]
    for workspace in workspaces:
        workspace.create()
    return workspaces
