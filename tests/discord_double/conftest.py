"""A raw client of the double (aiohttp, not discord.py): it identifies on the gateway so
that the double can send interactions, and calls the REST routes by hand, so that the
tests here check the double's rules against Discord's documented answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.discord_double import DiscordDouble, Person

PING_COMMAND = {"name": "ping", "description": "Answers pong.", "type": 1}


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def code(self) -> int | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


@dataclass
class Raw:
    """Calls the double as any HTTP client would."""

    double: DiscordDouble
    http: aiohttp.ClientSession
    ws: aiohttp.ClientWebSocketResponse
    user: Person

    async def call(self, method: str, path: str, body: Any = None, **query: str) -> Answer:
        url = self.double.api_base + path
        headers = {"Authorization": "Bot raw-token"}
        async with self.http.request(
            method, url, json=body, params=query, headers=headers
        ) as response:
            text = await response.text()
            return Answer(response.status, json.loads(text) if text else None)

    async def callback(self, interaction: Any, kind: int, **data: Any) -> Answer:
        body: dict[str, Any] = {"type": kind}
        if data:
            body["data"] = data
        path = f"/interactions/{interaction.id}/{interaction.token}/callback"
        return await self.call("POST", path, body, with_response="true")

    def hook(self, interaction: Any, tail: str = "") -> str:
        return f"/webhooks/{self.double.application_id}/{interaction.token}{tail}"


@pytest.fixture
async def raw() -> AsyncIterator[Raw]:
    async with DiscordDouble() as double, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(double.gateway_url)
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "raw-token", "intents": 1, "properties": {}}})
        await double.wait_ready(timeout=5)
        client = Raw(double, http, ws, double.person("tester"))
        synced = await client.call(
            "PUT", f"/applications/{double.application_id}/commands", [PING_COMMAND]
        )
        assert synced.status == 200
        reader = asyncio.create_task(_drain(ws))
        try:
            yield client
        finally:
            reader.cancel()
            await ws.close()


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read and drop what the gateway sends (the tests look at the double's state)."""
    async for _ in ws:
        pass
