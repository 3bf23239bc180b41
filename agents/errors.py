"""The errors of the agents package, apart from the registry so that the CLI can name them
without loading it."""

from __future__ import annotations

import re
from collections.abc import Iterable


class UnknownAgentError(LookupError):
    """An id that is not a registered agent. The message lists the known ones."""

    def __init__(self, agent_id: str, known: Iterable[str]) -> None:
        self.agent_id = agent_id
        self.known = sorted(known, key=natural_key)
        shown = ", ".join(self.known) or "none (run `cellphone init`)"
        super().__init__(f"unknown agent {agent_id!r}; known agents: {shown}")


class WorkspaceError(OSError):
    """A workspace folder cannot be created or used."""


def natural_key(agent_id: str) -> tuple[object, ...]:
    """Sort key putting Agent-2 before Agent-10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", agent_id))
