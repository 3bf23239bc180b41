"""The double's gateway behaves as Discord's: RECONNECT and resumable INVALID_SESSION
lead to a RESUME that replays what was missed, a session that is not resumable is gone,
and IDENTIFY is refused with close codes 4004 (token) and 4014 (privileged intents the
Developer Portal has not enabled). Driven with aiohttp."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.discord_double import DiscordDouble
from tests.discord_double.conftest import PING_COMMAND

GUILD_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 15


@pytest.fixture
async def served() -> AsyncIterator[tuple[DiscordDouble, aiohttp.ClientSession]]:
    async with DiscordDouble() as double, aiohttp.ClientSession() as http:
        yield double, http


async def connect(double: DiscordDouble, http: aiohttp.ClientSession) -> Any:
    ws = await http.ws_connect(double.gateway_url)
    assert (await ws.receive_json(timeout=5))["op"] == 10
    return ws


async def identify(
    double: DiscordDouble, http: aiohttp.ClientSession, token: str = "t", intents: int = 1
) -> Any:
    ws = await connect(double, http)
    await ws.send_json({"op": 2, "d": {"token": token, "intents": intents, "properties": {}}})
    return ws


async def ready(ws: Any) -> dict[str, Any]:
    frame = await ws.receive_json(timeout=5)
    assert frame["t"] == "READY"
    assert (await ws.receive_json(timeout=5))["t"] == "GUILD_CREATE"
    return frame


async def resume(double: DiscordDouble, http: aiohttp.ClientSession, session: str, seq: int) -> Any:
    ws = await connect(double, http)
    await ws.send_json({"op": 6, "d": {"token": "t", "session_id": session, "seq": seq}})
    return ws


async def test_reconnect_asks_for_a_resume_that_replays_what_was_missed(served: Any) -> None:
    double, http = served
    ws = await identify(double, http)
    session = (await ready(ws))["d"]["session_id"]
    await double.gateway.reconnect()
    assert (await ws.receive_json(timeout=5)) == {"op": 7, "d": None}
    await ws.close()
    await double.gateway.wait(lambda: not double.gateway.connected, 5)

    sync = f"{double.api_base}/applications/{double.application_id}/commands"
    async with http.put(sync, json=[PING_COMMAND]) as synced:
        assert synced.status == 200
    sent = await double.slash("ping", double.person("captain"))  # while away
    again = await resume(double, http, session, seq=2)
    replayed = await again.receive_json(timeout=5)
    assert (replayed["t"], replayed["d"]["id"]) == ("INTERACTION_CREATE", str(sent.id))
    assert (await again.receive_json(timeout=5))["t"] == "RESUMED"
    await again.close()


async def test_a_resumable_invalid_session_can_be_resumed(served: Any) -> None:
    double, http = served
    ws = await identify(double, http)
    session = (await ready(ws))["d"]["session_id"]
    await double.gateway.invalidate(resumable=True)
    assert (await ws.receive_json(timeout=5)) == {"op": 9, "d": True}
    await ws.close()
    again = await resume(double, http, session, seq=2)
    assert (await again.receive_json(timeout=5))["t"] == "RESUMED"
    await again.close()


async def test_a_session_invalidated_for_good_cannot_be_resumed(served: Any) -> None:
    double, http = served
    ws = await identify(double, http)
    session = (await ready(ws))["d"]["session_id"]
    await double.gateway.invalidate(resumable=False)
    assert (await ws.receive_json(timeout=5)) == {"op": 9, "d": False}
    await ws.close()
    again = await resume(double, http, session, seq=2)
    assert (await again.receive_json(timeout=5)) == {"op": 9, "d": False}
    await again.close()
    fresh = await identify(double, http)
    assert (await ready(fresh))["d"]["session_id"] != session
    await fresh.close()


async def test_an_identify_with_a_wrong_token_is_closed_4004(served: Any) -> None:
    double, http = served
    double.token = "the-real-token"
    ws = await identify(double, http, token="a-stale-token")
    closed = await ws.receive(timeout=5)
    assert closed.type is aiohttp.WSMsgType.CLOSE
    assert (closed.data, closed.extra) == (4004, "Authentication failed.")
    good = await identify(double, http, token="the-real-token")
    await ready(good)
    await good.close()


async def test_a_privileged_intent_not_enabled_is_closed_4014(served: Any) -> None:
    double, http = served
    double.privileged_intents = 0  # nothing enabled in the Developer Portal
    ws = await identify(double, http, intents=GUILD_MESSAGES | MESSAGE_CONTENT)
    closed = await ws.receive(timeout=5)
    assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4014)
    assert closed.extra == "Disallowed intent(s)."
    plain = await identify(double, http, intents=GUILD_MESSAGES)
    await ready(plain)
    await plain.close()


async def test_zlib_stream_frames_are_one_stream_each_ending_in_a_sync_flush(
    served: Any,
) -> None:
    double, http = served
    ws = await http.ws_connect(double.gateway_url + "?v=10&encoding=json&compress=zlib-stream")
    stream = zlib.decompressobj()
    frames = []
    hello = await ws.receive(timeout=5)
    assert hello.type is aiohttp.WSMsgType.BINARY and hello.data.endswith(b"\x00\x00\xff\xff")
    frames.append(json.loads(stream.decompress(hello.data)))
    await ws.send_json({"op": 2, "d": {"token": "t", "intents": 1, "properties": {}}})
    for _ in range(2):
        frame = await ws.receive(timeout=5)
        assert frame.data.endswith(b"\x00\x00\xff\xff")
        frames.append(json.loads(stream.decompress(frame.data)))
    assert [f.get("t") or f["op"] for f in frames] == [10, "READY", "GUILD_CREATE"]
    assert double.gateway.compressed == 1
    await ws.close()
