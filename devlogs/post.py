"""Where posts go: a :class:`Poster` sends one message of at most 2,000 characters to the
channel of its kind (devlog, operator, status), never pinging anyone. The bot is one
poster (bot/cogs/devlogs.py); :class:`WebhookPoster` is the other, for when no bot runs."""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)

RATE_LIMIT_TRIES = 3
NO_MENTIONS: dict[str, Any] = {"parse": []}


class PostKind(StrEnum):
    DEVLOG = "devlog"
    OPERATOR = "operator"
    STATUS = "status"


class PostError(Exception):
    """A post did not reach Discord; it is tried again later."""


class Poster(Protocol):
    async def send(self, kind: PostKind, content: str) -> None: ...


class WebhookPoster:
    """Posts through a Discord webhook URL (its channel takes every kind of post)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self._url = url  # a secret: never logged
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WebhookPoster:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, kind: PostKind, content: str) -> None:
        assert self._session is not None, "use the poster in `async with`"
        payload = {"content": content, "allowed_mentions": NO_MENTIONS}
        for _ in range(RATE_LIMIT_TRIES):
            try:
                async with self._session.post(
                    self._url, params={"wait": "true"}, json=payload
                ) as response:
                    if response.status == 429:
                        retry = (await response.json(content_type=None)).get("retry_after", 1)
                        await asyncio.sleep(min(float(retry), 10.0))
                        continue
                    if response.status >= 400:
                        text = (await response.text())[:200]
                        raise PostError(f"the devlog webhook answered {response.status}: {text}")
                    return
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise PostError(
                    f"the devlog webhook cannot be reached: {type(exc).__name__}"
                ) from exc
        raise PostError(f"the devlog webhook stayed rate limited after {RATE_LIMIT_TRIES} tries")
