"""Where posts go: a :class:`Poster` sends one message of at most 2,000 characters to the
channel of its kind (devlog, operator, status), never pinging anyone. The bot is one
poster (bot/cogs/devlogs.py); :class:`WebhookPoster` is the other, for when no bot runs."""

from __future__ import annotations

import asyncio
import json
import logging
from enum import StrEnum
from typing import Any, Protocol

import aiohttp

from devlogs.entry import Post

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
    async def send(self, kind: PostKind, post: Post) -> None: ...


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

    async def send(self, kind: PostKind, post: Post) -> None:
        assert self._session is not None, "use the poster in `async with`"
        payload: dict[str, Any] = {"content": post.content, "allowed_mentions": NO_MENTIONS}
        if post.embed is not None:
            embed = post.embed
            payload["embeds"] = [
                {
                    "title": embed["title"],
                    "description": embed["description"],
                    "footer": {"text": embed["footer"]},
                }
            ]
        for _ in range(RATE_LIMIT_TRIES):
            try:
                async with self._session.post(
                    self._url, params={"wait": "true"}, **_body(payload, post.attachment)
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


def _body(payload: dict[str, Any], attachment: tuple[str, bytes] | None) -> dict[str, Any]:
    """The request body: JSON, or with a file a form holding the JSON and the file."""
    if attachment is None:
        return {"json": payload}
    name, data = attachment
    form = aiohttp.FormData()
    payload = {**payload, "attachments": [{"id": 0, "filename": name}]}
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    form.add_field("files[0]", data, filename=name, content_type="text/markdown")
    return {"data": form}
