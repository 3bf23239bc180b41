"""Composing a desk that joins a coordinator: the home's runtime and the Redis link."""

from __future__ import annotations

import asyncio

from config.settings import Home, Settings
from messaging.cluster.acl import grant
from messaging.cluster.member import Member
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


async def grant_desk(settings: Settings, name: str) -> tuple[str, str]:
    """Make desk ``name``'s Redis user through the coordinator's ``cluster.redis_url``."""
    checked_desk_name(name)
    url = settings.cluster.redis_url
    if url is None:
        raise ClusterError(
            "cluster.redis_url is not set in this home: --grant runs at the coordinator"
        )
    redis = connect(url, settings.cluster)
    try:
        return await grant(redis, name)
    except (RedisError, OSError) as exc:
        raise ClusterError(
            f"cannot make the user of desk {name} at {shown_url(url)}: {exc}"
        ) from None
    finally:
        await redis.aclose()
