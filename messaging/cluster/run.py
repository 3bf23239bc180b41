"""Composing a desk that joins a coordinator: the home's runtime and the Redis link."""

from __future__ import annotations

import asyncio

from config.settings import Home, Settings
from messaging.cluster.acl import grant
from messaging.cluster.member import Member
from messaging.cluster.presence import forget
from messaging.cluster.wire import (
    ClusterError,
    RedisError,
    checked_desk_name,
    connect,
    shown_url,
)
from messaging.deliver import ScreenDeliverer
from messaging.runtime import open_runtime


async def serve(
    home: Home,
    settings: Settings,
    url: str,
    name: str,
    screen: ScreenDeliverer | None,
    stopped: asyncio.Event,
) -> None:
    checked_desk_name(name)
    if settings.cluster.redis_url is not None:
        raise ClusterError(
            f"the home {home.root} is set up as a coordinator (cluster.redis_url is set); a "
            "desk joins with --join only: unset cluster.redis_url in this home"
        )
    redis = connect(url, settings.cluster)
    try:
        try:
            await redis.ping()
        except (RedisError, OSError) as exc:
            raise ClusterError(
                f"cannot reach Redis at {shown_url(url)}: {exc}; check the address and this "
                "desk's user and password (cluster.username, CELLPHONE_CLUSTER__PASSWORD)"
            ) from None
        async with open_runtime(home, settings, screen, start_desk=False) as rt:
            member = Member(name, redis, rt, settings.cluster, url)
            await member.run(stopped)
    finally:
        await redis.aclose()


async def forget_desk(settings: Settings, name: str) -> str:
    """Drop desk ``name`` from the roster of the coordinator's ``cluster.redis_url``, with
    its heartbeat: the line to print."""
    checked_desk_name(name)
    url = coordinator_url(settings, "--forget")
    redis = connect(url, settings.cluster)
    try:
        if not await forget(redis, name):
            raise ClusterError(f"no desk {name!r} is known at {shown_url(url)}; nothing to forget")
    except (RedisError, OSError) as exc:
        raise ClusterError(f"cannot forget desk {name} at {shown_url(url)}: {exc}") from None
    finally:
        await redis.aclose()
    return (
        f"desk {name} forgotten: its agents are no longer listed (a desk {name} that still "
        "runs is seen again at its next heartbeat)"
    )


def coordinator_url(settings: Settings, option: str) -> str:
    url = settings.cluster.redis_url
    if url is None:
        raise ClusterError(
            f"cluster.redis_url is not set in this home: {option} runs at the coordinator"
        )
    return url


async def grant_desk(settings: Settings, name: str) -> tuple[str, str]:
    """Make desk ``name``'s Redis user through the coordinator's ``cluster.redis_url``."""
    checked_desk_name(name)
    url = coordinator_url(settings, "--grant")
    redis = connect(url, settings.cluster)
    try:
        return await grant(redis, name)
    except (RedisError, OSError) as exc:
        raise ClusterError(
            f"cannot make the user of desk {name} at {shown_url(url)}: {exc}"
        ) from None
    finally:
        await redis.aclose()
