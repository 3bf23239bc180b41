"""The agent registry: who is in the swarm, read from the coordinates file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from agents.errors import UnknownAgentError, natural_key
from coordinates import CoordinatesFile, Point, Typing
from coordinates.tmux import TmuxTarget
from coordinates.typing import DEFAULT_TYPING


class InactiveAgentError(UnknownAgentError):
    def __init__(self, agent_id: str, known: Iterable[str]) -> None:
        super().__init__(agent_id, known)
        self.args = (
            f"agent {agent_id!r} is marked inactive in the coordinates file; "
            'set "active": true to message it',
        )


@dataclass(frozen=True)
class Agent:
    agent_id: str
    description: str
    active: bool
    chat_point: Point | None
    onboarding_point: Point | None
    window_title: str | None = None
    uncalibrated: frozenset[str] = frozenset()  # "chat", "onboarding": placeholder points
    typing: Typing = DEFAULT_TYPING  # keys that paste and submit; on-screen verification
    tmux: TmuxTarget | None = None  # a terminal agent reached through tmux, not the screen

    @property
    def role(self) -> str:
        return self.description


class Registry:
    """The agents of one coordinates file, looked up by exact id."""

    def __init__(self, agents: Iterable[Agent]) -> None:
        self._agents = {agent.agent_id: agent for agent in agents}

    @classmethod
    def from_file(cls, document: CoordinatesFile) -> Registry:
        return cls(
            Agent(
                agent_id=e.agent_id,
                description=e.description,
                active=e.active,
                chat_point=e.chat_point,
                onboarding_point=e.onboarding_point,
                window_title=e.window_title,
                uncalibrated=e.uncalibrated,
                typing=e.typing,
                tmux=e.tmux,
            )
            for e in document.agents.values()
        )

    def __iter__(self) -> Iterator[Agent]:
        return iter(sorted(self._agents.values(), key=lambda a: natural_key(a.agent_id)))

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    @property
    def ids(self) -> list[str]:
        return [agent.agent_id for agent in self]

    def get(self, agent_id: str) -> Agent:
        """The agent with exactly this id; anything else raises :class:`UnknownAgentError`."""
        try:
            return self._agents[agent_id]
        except (KeyError, TypeError):
            raise UnknownAgentError(agent_id, self._agents) from None

    def active(self) -> list[Agent]:
        return [agent for agent in self if agent.active]

    def resolve(self, agent_ids: Iterable[str], *, require_active: bool = True) -> list[str]:
        """Validate ids (order kept, repeats dropped) for messaging."""
        resolved: list[str] = []
        for agent_id in agent_ids:
            agent = self.get(agent_id)
            if require_active and not agent.active:
                raise InactiveAgentError(agent_id, self._agents)
            if agent.agent_id not in resolved:
                resolved.append(agent.agent_id)
        return resolved
