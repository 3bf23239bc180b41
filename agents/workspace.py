"""An agent's folders under ``agent_workspaces/<id>/``: inbox, outbox, devlogs, status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agents.errors import WorkspaceError
from agents.registry import Agent, Registry
from coordinates.file import AGENT_ID_PATTERN

FOLDERS = ("inbox", "outbox", "devlogs")


@dataclass(frozen=True)
class Workspace:
    """Folders of one registered agent. Build it from an :class:`Agent`, never from a raw id,
    so no string from outside becomes a path unchecked.

    The id is checked as text (a single name: no ``/``, no ``..``), and the path is not
    resolved, so ``agent_workspaces/<id>`` may be a symlink, say to the agent's project."""

    root: Path
    agent_id: str

    @classmethod
    def of(cls, workspaces_dir: Path, agent: Agent) -> Workspace:
        if not AGENT_ID_PATTERN.fullmatch(agent.agent_id):
            raise WorkspaceError(
                f"agent id {agent.agent_id!r} cannot name a folder under {workspaces_dir}; "
                "use letters, digits, '-' or '_' starting with a letter (like Agent-1)"
            )
        return cls(root=workspaces_dir / agent.agent_id, agent_id=agent.agent_id)

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
            folder = self.root / name
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkspaceError(
                    f"cannot create {folder}: {exc.strerror or exc}; if {self.root} is a "
                    "symlink, point it at an existing folder"
                ) from exc


def create_workspaces(workspaces_dir: Path, registry: Registry) -> list[Workspace]:
    workspaces = [Workspace.of(workspaces_dir, agent) for agent in registry]
    for workspace in workspaces:
        workspace.create()
    return workspaces
