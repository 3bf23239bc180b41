"""The double's server. ``async with OpenAIDouble(answer="...") as double:``; point a
client at ``double.base_url``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class OpenAIDouble:
    answer: str = "A summary."
    status: int = 200  # anything else: answered with that error status
    delay_s: float = 0.0  # how long each answer takes (longer than a timeout: a hang)
    fail_first: int = 0  # the first N requests get a 500 whatever ``status`` says
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    async def __aenter__(self) -> OpenAIDouble:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("Authorization"))
        if self.delay_s:
            with contextlib.suppress(asyncio.TimeoutError):  # ends early when stopping
                await asyncio.wait_for(self._stopping.wait(), self.delay_s)
        if len(self.requests) <= self.fail_first or self.status != 200:
            status = 500 if len(self.requests) <= self.fail_first else self.status
            error = {"error": {"message": "the double was told to fail", "type": "server_error"}}
            return web.json_response(error, status=status)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "double"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
            dumps=json.dumps,
        )
