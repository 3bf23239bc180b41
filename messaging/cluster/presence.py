"""Whether a desk is there. A desk's heartbeat key expires in Redis a stated time after its
last beat (:func:`gone_after_s`), so a desk that died without a word is known as gone to
whoever reads Redis: the coordinator, which stops handing it deliveries, and
``cellphone agents``. The coordinator keeps the last beat of every desk it saw in a roster
(``cellphone:desks``), so the agents of a gone desk are still named, and said to be gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from config.settings import ClusterSettings
from messaging.cluster.wire import (
    PREFIX,
    ClusterError,
    Heartbeat,
    RedisError,
    RemoteAgent,
    aioredis,
    connect,
    desk_of_heartbeat,
    heartbeat_key,
    shown_url,
)

GONE_AFTER_AWAYS = 10  # a heartbeat lives ten times cluster.away_after_s (5 min by default)
ROSTER = f"{PREFIX}:desks"  # hash: desk name -> its last heartbeat the coordinator saw


class Presence(StrEnum):
    ALIVE = "alive"
    AWAY = "away"  # silent past cluster.away_after_s: what is handed over waits for it
    GONE = "gone"  # its heartbeat expired: nothing is handed over to it


def gone_after_s(settings: ClusterSettings) -> float:
    """How long Redis keeps a desk's heartbeat after its last beat (the key's TTL, set by the
    desk from its own settings): ten times ``away_after_s``, and at least three beats."""
    return max(GONE_AFTER_AWAYS * settings.away_after_s, 3 * settings.heartbeat_s)


@dataclass(frozen=True)
class Sighting:
    """A desk as Redis shows it now."""

    heartbeat: Heartbeat
    silent_s: float | None  # since its last beat, by Redis's clock; None: gone (expired)

    def presence(self, away_after_s: float) -> Presence:
        if self.silent_s is None:
            return Presence.GONE
        return Presence.AWAY if self.silent_s > away_after_s else Presence.ALIVE


async def sightings(redis: aioredis.Redis) -> dict[str, Sighting]:
    """Every desk with a heartbeat in Redis, and every desk of the roster whose heartbeat
    expired."""
    keys = [key async for key in redis.scan_iter(f"{PREFIX}:heartbeat:*", count=1000)]
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.get(key)
            pipe.pttl(key)
        pipe.hgetall(ROSTER)
        replies: list[Any] = await pipe.execute()
    seen: dict[str, Sighting] = {}
    for key, value, pttl in zip(keys, replies[0:-1:2], replies[1:-1:2], strict=True):
        if value is None:  # expired between the scan and the read
            continue
        beat = Heartbeat.loads(str(value))
        # a beat without a TTL (a desk of an earlier version) is taken as just heard
        silent = (beat.ttl_ms - int(pttl)) / 1000 if beat.ttl_ms and int(pttl) >= 0 else 0.0
        seen[desk_of_heartbeat(key)] = Sighting(beat, max(0.0, silent))
    for name, value in dict(replies[-1]).items():
        if name not in seen:
            seen[name] = Sighting(Heartbeat.loads(str(value)), None)
    return seen


async def remember(redis: aioredis.Redis, beats: dict[str, Heartbeat]) -> None:
    """Keep these beats in the roster."""
    if beats:
        await redis.hset(ROSTER, mapping={name: beat.dumps() for name, beat in beats.items()})


async def forget(redis: aioredis.Redis, name: str) -> bool:
    """Drop desk ``name`` from the roster, with its heartbeat; whether it was known."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hdel(ROSTER, name)
        pipe.delete(heartbeat_key(name))
        dropped: list[int] = await pipe.execute()
    return any(dropped)


def owners(desks: dict[str, tuple[Heartbeat, bool]], local: set[str]) -> dict[str, str]:
    """Agent -> the desk serving it: the first desk to announce it among those not gone
    (by when they started), then the gone ones for agents no other desk announces; none
    of ``local`` (the coordinator's own agents). ``desks``: name -> (last beat, gone)."""
    owner: dict[str, str] = {}
    order = sorted(desks.items(), key=lambda d: (d[1][1], d[1][0].since))
    for name, (beat, _) in order:
        for agent in beat.agents:
            if agent.agent_id not in local:
                owner.setdefault(agent.agent_id, name)
    return owner


@dataclass(frozen=True)
class Listed:
    """An agent another machine's desk serves, as ``cellphone agents`` shows it."""

    agent: RemoteAgent
    desk: str
    presence: Presence
    silent_s: float | None  # since the desk's last beat; None: gone
    gone_after_s: float  # how long Redis keeps its beat (0: for ever)


async def listing(settings: ClusterSettings, url: str, local: set[str]) -> list[Listed]:
    """The agents of other machines' desks, each with its desk and whether it is there,
    read once from the Redis at ``url``."""
    redis = connect(url, settings)
    try:
        seen = await sightings(redis)
    except (RedisError, OSError) as exc:
        raise ClusterError(
            f"cannot reach Redis at {shown_url(url)} (cluster.redis_url) to list the agents "
            f"of other desks: {exc}; start it, or check the address and this user's password"
        ) from None
    finally:
        await redis.aclose()
    owner = owners({n: (s.heartbeat, s.silent_s is None) for n, s in seen.items()}, local)
    return [
        Listed(
            agent,
            name,
            s.presence(settings.away_after_s),
            s.silent_s,
            s.heartbeat.ttl_ms / 1000,
        )
        for name, s in sorted(seen.items())
        for agent in s.heartbeat.agents
        if owner.get(agent.agent_id) == name
    ]


async def agent_rows(settings: ClusterSettings, local: set[str]) -> list[dict[str, Any]]:
    """:func:`listing` at ``settings.redis_url`` as ``cellphone agents`` shows it: the
    rows of local agents, with ``desk`` naming the desk and whether it is there."""
    assert settings.redis_url is not None
    return [
        {
            "id": entry.agent.agent_id,
            "role": entry.agent.description,
            "active": entry.agent.active,
            "chat_point": None,
            "onboarding_point": None,
            "tmux": None,
            "inbox": None,
            "desk": {
                "name": entry.desk,
                "presence": entry.presence.value,
                "silent_s": None if entry.silent_s is None else round(entry.silent_s, 1),
                "gone_after_s": entry.gone_after_s,
            },
        }
        for entry in await listing(settings, settings.redis_url, local)
    ]
