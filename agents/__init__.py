"""The agents of a swarm: the registry built from the coordinates file, their workspace
folders (inbox, outbox, devlogs, status) and onboarding texts."""

from agents.registry import Agent, Registry, UnknownAgentError
from agents.workspace import Workspace, WorkspaceError

__all__ = ["Agent", "Registry", "UnknownAgentError", "Workspace", "WorkspaceError"]
