"""The gateway websocket of the double: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats,
RESUME with replay of what was missed, and ways to break the connection on purpose.

Rules from docs.discord.com/developers: "Events › Gateway" (Identifying, Resuming,
Reconnect, Invalid Session) and "Topics › Opcodes and Status Codes" (Gateway Close Event
Codes: 4004 Authentication failed, 4014 Disallowed intent(s)), "Gateway › Transport
Compression" (zlib-stream, which discord.py asks for)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord_double.payloads import Payload

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT = 0, 1, 2, 6, 7
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
HEARTBEAT_INTERVAL_MS = 41_250
AUTHENTICATION_FAILED, DISALLOWED_INTENTS = 4004, 4014
# "Gateway › Privileged Intents": GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)

ReadyEvents = Callable[[str], list[tuple[str, Payload]]]
Admit = Callable[[Payload], int | None]  # an IDENTIFY → the close code refusing it, if any


CLOSE_REASONS = {
    AUTHENTICATION_FAILED: "Authentication failed.",
    DISALLOWED_INTENTS: "Disallowed intent(s).",
}


@dataclass
class Session:
    """One gateway session: its id and every dispatch sent in it, by sequence number."""

    id: str = field(default_factory=lambda: secrets.token_hex(8))
    log: list[tuple[int, str, Payload]] = field(default_factory=list)

    @property
    def seq(self) -> int:
        return self.log[-1][0] if self.log else 0


class Gateway:
    """One bot connection at a time, as a single shard."""

    def __init__(self, ready_events: ReadyEvents, admit: Admit = lambda identify: None) -> None:
        self._ready_events = ready_events
        self._admit = admit
        self._close_next_identify: int | None = None
        self._compressors: weakref.WeakKeyDictionary[web.WebSocketResponse, Any] = (
            weakref.WeakKeyDictionary()
        )
        self.refusals: list[int] = []  # close codes sent to refuse an IDENTIFY
        self.compressed = 0  # connections that asked for zlib-stream
        self._ws: web.WebSocketResponse | None = None
        self._lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self.session: Session | None = None
        self.identifies = 0
        self.resumes = 0
        self.replayed = 0  # dispatches sent again on a RESUME
        self.intents: int | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        if request.query.get("compress") == "zlib-stream":
            self._compressors[ws] = zlib.compressobj()
            self.compressed += 1
        hello = {"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}
        await self._send(ws, json.dumps(hello))
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            await self._receive(ws, json.loads(frame.data))
        await self._notify()
        return ws

    async def _send(self, ws: web.WebSocketResponse, text: str) -> None:
        """One frame: text, or with ``compress=zlib-stream`` ("Gateway › Transport
        Compression") a binary piece of one zlib stream per connection, each ending in a
        sync flush (``00 00 ff ff``)."""
        compressor = self._compressors.get(ws)
        if compressor is None:
            await ws.send_str(text)
            return
        data = compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
        await ws.send_bytes(data)

    async def _receive(self, ws: web.WebSocketResponse, frame: Payload) -> None:
        op, data = frame.get("op"), frame.get("d") or {}
        if op == HEARTBEAT:
            await self._send(ws, json.dumps({"op": HEARTBEAT_ACK}))
        elif op == IDENTIFY:
            await self._identify(ws, data)
        elif op == RESUME:
            await self._resume(ws, data)

    async def _identify(self, ws: web.WebSocketResponse, data: Payload) -> None:
        code = self._close_next_identify or self._admit(data)
        if code is not None:
            self._close_next_identify = None
            self.refusals.append(code)
            await ws.close(code=code, message=CLOSE_REASONS.get(code, "").encode())
            await self._notify()
            return
        async with self._lock:
            await self._attach(ws)
            self.intents = data.get("intents")
            self.session = Session()
            for event, payload in self._ready_events(self.session.id):
                await self._send_locked(event, payload)
            self.identifies += 1
        await self._notify()

    async def _resume(self, ws: web.WebSocketResponse, data: Payload) -> None:
        async with self._lock:
            session = self.session
            if session is None or data.get("session_id") != session.id:
                await self._send(ws, json.dumps({"op": INVALID_SESSION, "d": False}))
                return
            await self._attach(ws)
            since = data.get("seq") or 0
            for seq, event, payload in session.log:
                if seq > since:
                    await self._write(seq, event, payload)
                    self.replayed += 1
            session.log.append((session.seq + 1, "RESUMED", {}))
            await self._write(session.seq, "RESUMED", {})
            self.resumes += 1
        await self._notify()

    async def _attach(self, ws: web.WebSocketResponse) -> None:
        """Make ``ws`` the live connection: dispatches go to it from now on (before its
        IDENTIFY or RESUME, none do, as with Discord)."""
        if self._ws is not None and self._ws is not ws and not self._ws.closed:
            await self._ws.close(code=4000)
        self._ws = ws

    async def dispatch(self, event: str, payload: Payload) -> float:
        """Send a dispatch now, or keep it for the RESUME when no connection is up.
        Returns when it was written (``time.perf_counter()``)."""
        async with self._lock:
            return await self._send_locked(event, payload)

    async def _send_locked(self, event: str, payload: Payload) -> float:
        if self.session is None:
            raise RuntimeError("no gateway session: the bot has not identified yet")
        seq = self.session.seq + 1
        self.session.log.append((seq, event, payload))
        return await self._write(seq, event, payload)

    async def _write(self, seq: int, event: str, payload: Payload) -> float:
        frame = json.dumps({"op": DISPATCH, "s": seq, "t": event, "d": payload})
        at = time.perf_counter()
        if self._ws is not None and not self._ws.closed:
            try:
                await self._send(self._ws, frame)
            except ConnectionError:
                log.info("gateway: %s #%d kept for replay, connection lost", event, seq)
        return at

    # -- breaking the connection -------------------------------------------------------

    async def drop(self, code: int = 4000) -> None:
        """Close the socket the way Discord does on a server-side problem: the client
        reconnects and sends RESUME."""
        async with self._lock:
            if self._ws is not None:
                await self._ws.close(code=code)
                self._ws = None

    async def invalidate(self, resumable: bool = False) -> None:
        """Send INVALID_SESSION ("Invalid Session": ``d`` says whether the session may be
        resumed). Not resumable: the session is gone and the client identifies again, as
        after a long outage; resumable: it reconnects and resumes."""
        async with self._lock:
            if not resumable:
                self.session = None
            if self._ws is not None:
                await self._send(self._ws, json.dumps({"op": INVALID_SESSION, "d": resumable}))

    async def reconnect(self) -> None:
        """Send RECONNECT (op 7, "Reconnect"): the client should reconnect and resume;
        what is dispatched meanwhile waits for its RESUME."""
        async with self._lock:
            if self._ws is not None:
                await self._send(self._ws, json.dumps({"op": RECONNECT, "d": None}))

    def close_next_identify(self, code: int) -> None:
        """Refuse the next IDENTIFY with close ``code``, whatever it holds (a token reset
        in the Developer Portal between the bot's login and its connecting)."""
        self._close_next_identify = code

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close(code=1001)

    # -- waiting -----------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, condition: Callable[[], bool], timeout: float) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)
