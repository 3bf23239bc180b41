"""The desks a coordinator follows: the last beat of each, whether it is alive, away or
gone (:mod:`messaging.cluster.presence`), and which desk serves each agent. The agent
registry of the coordinator shows its remote agents from here."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from messaging.cluster.presence import Presence, Sighting, owners, remember, sightings
from messaging.cluster.wire import Heartbeat, aioredis

log = logging.getLogger(__name__)


@dataclass
class SeenDesk:
    heartbeat: Heartbeat
    changed_at: float  # this process's clock when the beat last changed
    gone: bool = False  # its heartbeat expired in Redis
    told: bool = False  # its being away was logged

    def away(self, after_s: float) -> bool:
        """Silent past ``after_s``, or gone."""
        return self.gone or time.monotonic() - self.changed_at > after_s

    def presence(self, after_s: float) -> Presence:
        if self.gone:
            return Presence.GONE
        return Presence.AWAY if self.away(after_s) else Presence.ALIVE

    @property
    def gone_after_s(self) -> float:
        return self.heartbeat.ttl_ms / 1000


class Desks:
    def __init__(self, away_after_s: float) -> None:
        self.away_after_s = away_after_s
        self.seen: dict[str, SeenDesk] = {}
        self.owner: dict[str, str] = {}  # agent -> desk

    async def look(self, redis: aioredis.Redis, local: set[str]) -> None:
        """Read the desks' beats and the roster, log what changed (away, gone, back,
        forgotten), keep new beats in the roster, and give each agent not in ``local`` its
        desk."""
        now = time.monotonic()
        new: dict[str, Heartbeat] = {}
        sighted = await sightings(redis)
        for name in set(self.seen) - set(sighted):
            if self.seen[name].gone:  # `cellphone desk --forget`
                log.warning("desk %s was forgotten", name)
                del self.seen[name]
            else:  # no beat and not in the roster: gone once silent long enough here too
                sighted[name] = Sighting(self.seen[name].heartbeat, None)
                new[name] = self.seen[name].heartbeat
        for name, sighting in sighted.items():
            if self._follow(name, sighting, now):
                new[name] = sighting.heartbeat
        await remember(redis, new)
        self._assign(local)

    def _follow(self, name: str, sighting: Sighting, now: float) -> bool:
        """Take in one desk as Redis shows it; whether its beat is new to the roster."""
        beat, seen = sighting.heartbeat, self.seen.get(name)
        if sighting.silent_s is None:  # no beat in Redis: gone
            if seen is None:  # known from the roster only
                self.seen[name] = SeenDesk(beat, -math.inf, gone=True)
            elif not seen.gone and now - seen.changed_at >= seen.gone_after_s:
                # (by this clock too: a Redis that lost its data lost the beats as well)
                log.warning(
                    "desk %s stopped answering (no heartbeat for over %g s): what is meant "
                    "for its agents goes to their inboxes here until it is back",
                    name,
                    seen.gone_after_s,
                )
                seen.gone = True
            return False
        if (
            seen is None
            or seen.gone
            or seen.heartbeat.beat != beat.beat
            or seen.heartbeat.since != beat.since
        ):
            if seen is not None and seen.away(self.away_after_s):
                log.warning("desk %s is back", name)
            self.seen[name] = SeenDesk(beat, now - sighting.silent_s)
            return seen is None or seen.gone or seen.heartbeat.agents != beat.agents
        if seen.away(self.away_after_s) and not seen.told:
            log.warning("desk %s is away (no heartbeat for %g s)", name, self.away_after_s)
            seen.told = True
        return False

    def _assign(self, local: set[str]) -> None:
        """Each agent to the first desk that announced it, a desk that is not gone first;
        none of ``local`` (the coordinator's own)."""
        owner = owners({n: (s.heartbeat, s.gone) for n, s in self.seen.items()}, local)
        for name, seen in self.seen.items():
            for agent in seen.heartbeat.agents:
                mine = owner.get(agent.agent_id)
                if mine not in (None, name) and self.owner.get(agent.agent_id) != mine:
                    log.warning(
                        "desk %s names %s, which desk %s owns; ignored", name, agent.agent_id, mine
                    )
        self.owner = owner

    def live(self) -> list[str]:
        """The desks not gone."""
        return [name for name, seen in self.seen.items() if not seen.gone]

    def away(self) -> dict[str, bool]:
        """Each desk seen, with whether it is away (silent past ``away_after_s``, or gone)."""
        return {name: seen.away(self.away_after_s) for name, seen in self.seen.items()}

    def presence(self, desk: str) -> Presence | None:
        seen = self.seen.get(desk)
        return seen.presence(self.away_after_s) if seen is not None else None

    def remote_agents(self) -> dict[str, tuple[str, bool]]:
        """Each agent a desk serves, with its description and whether it is active."""
        agents: dict[str, tuple[str, bool]] = {}
        for agent_id, desk in self.owner.items():
            for agent in self.seen[desk].heartbeat.agents:
                if agent.agent_id == agent_id:
                    agents[agent_id] = (agent.description, agent.active)
        return agents

    def described(self, agent_id: str, description: str) -> str:
        """``description`` after the agent's desk: "[desk pc-2]", "[desk pc-2, away]"."""
        desk = self.owner[agent_id]
        presence = self.seen[desk].presence(self.away_after_s)
        where = f"[desk {desk}{'' if presence is Presence.ALIVE else ', ' + presence}]"
        return f"{where} {description}".strip()
