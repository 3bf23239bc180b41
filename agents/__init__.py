"""The agents of a swarm: the registry built from the coordinates file, their workspace
folders (inbox, outbox, devlogs, status) and onboarding texts. The names below load their
modules when first used (see :mod:`config.lazy`)."""

from typing import TYPE_CHECKING

from config.lazy import offered

if TYPE_CHECKING:
    from agents.errors import UnknownAgentError, WorkspaceError
    from agents.registry import Agent, Registry
    from agents.workspace import Workspace

__all__ = ["Agent", "Registry", "UnknownAgentError", "Workspace", "WorkspaceError"]
__getattr__ = offered(
    __name__,
    {
        "Agent": "agents.registry",
        "Registry": "agents.registry",
        "UnknownAgentError": "agents.errors",
        "Workspace": "agents.workspace",
        "WorkspaceError": "agents.errors",
    },
)
