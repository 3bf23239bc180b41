"""The REST half of the double and the object tests hold: it serves what a discord.py
client calls, records every call, and injects what users do (commands, clicks, modal
submits, messages) through the gateway."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.discord_double import payloads
from tests.discord_double.gateway import Gateway
from tests.discord_double.payloads import Guild, Payload, Person, Role, snowflake

API_PREFIX = "/api/v10"
EPHEMERAL = 64
JSON = "application/json"  # exactly: with "; charset=..." discord.py reads the body as text


@dataclass
class RestCall:
    """One request the bot made."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: dict[str, tuple[str, bytes]]  # form field → (file name, content)
    at: float  # time.perf_counter() when it arrived

    @property
    def data(self) -> Payload:
        """The message part: ``data`` of an interaction callback, else the body itself."""
        body = self.json if isinstance(self.json, dict) else {}
        inner = body.get("data")
        return inner if isinstance(inner, dict) and "type" in body else body

    @property
    def content(self) -> str:
        return self.data.get("content") or ""

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def allowed_mentions(self) -> Payload | None:
        return self.data.get("allowed_mentions")


CALL = web.RequestKey("call", RestCall)


@dataclass(frozen=True)
class Upload:
    """A file a user attaches to a command."""

    filename: str
    content: bytes
    content_type: str = "text/markdown; charset=utf-8"


@dataclass
class Sent:
    """An interaction the double sent, with when it left."""

    id: int
    token: str
    payload: Payload
    sent_at: float

    def owns(self, call: RestCall, application_id: int) -> bool:
        return call.path.startswith(
            (f"/interactions/{self.id}/", f"/webhooks/{application_id}/{self.token}")
        )


@dataclass
class DiscordDouble:
    """A Discord API double on 127.0.0.1. ``async with DiscordDouble() as double:``."""

    guild: Guild = field(default_factory=Guild)
    bot_user: Person = field(default_factory=lambda: Person(snowflake(), "cellphone", bot=True))
    application_id: int = field(default_factory=snowflake)
    calls: list[RestCall] = field(default_factory=list)
    messages: dict[int, Payload] = field(default_factory=dict)
    commands: dict[str, Payload] = field(default_factory=dict)
    token: str | None = None  # when set, any other bot token is refused with 401

    def __post_init__(self) -> None:
        self.gateway = Gateway(self._ready_events)
        self.uploads: dict[int, Upload] = {}
        self._originals: dict[str, int] = {}  # interaction token → message id
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> DiscordDouble:
        app = web.Application(middlewares=[self._record], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{id}/{name}", self._attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def add_role(self, name: str) -> Role:
        role = Role(snowflake(), name)
        self.guild.roles.append(role)
        return role

    def person(self, name: str, *roles: Role) -> Person:
        return Person(snowflake(), name, tuple(r.id for r in roles))

    def _ready_events(self, session_id: str) -> list[tuple[str, Payload]]:
        ready = {
            "v": 10,
            "user": self.bot_user.user(),
            "guilds": [{"id": str(self.guild.id), "unavailable": True}],
            "session_id": session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
        }
        return [("READY", ready), ("GUILD_CREATE", self.guild.create_payload(self.bot_user))]

    # -- REST --------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        at = time.perf_counter()
        body, files = await _read_body(request)
        call = RestCall(
            request.method, request.path[len(API_PREFIX) :], dict(request.query), body, files, at
        )
        request[CALL] = call
        if self._refuses(call, request.headers.get("Authorization")):
            response: web.StreamResponse = _json({"message": "401: Unauthorized", "code": 0}, 401)
        else:
            response = await handler(request)
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return response

    def _refuses(self, call: RestCall, authorization: str | None) -> bool:
        """A wrong bot token, where Discord wants one (interaction tokens need none)."""
        if self.token is None or call.path.startswith(("/interactions/", "/webhooks/")):
            return False
        return authorization != f"Bot {self.token}"

    async def _api(self, request: web.Request) -> web.Response:
        call = request[CALL]
        parts = call.path.strip("/").split("/")
        route = _ROUTES.get((call.method, _shape(parts)))
        if route is None:
            return _json({"message": "404: Not Found", "code": 0}, status=404)
        return route(self, call, parts)

    def _me(self, call: RestCall, parts: list[str]) -> web.Response:
        return _json(self.bot_user.user())

    def _application(self, call: RestCall, parts: list[str]) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": "cellphone",
                "icon": None,
                "description": "",
                "rpc_origins": [],
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": Person(self.guild.owner_id, "owner").user(),
                "summary": "",
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
            }
        )

    def _sync(self, call: RestCall, parts: list[str]) -> web.Response:
        guild_id = parts[3] if len(parts) > 4 else None
        synced = []
        for command in call.json or []:
            stored = {
                **command,
                "id": str(snowflake()),
                "application_id": str(self.application_id),
                "version": str(snowflake()),
            }
            if guild_id:
                stored["guild_id"] = guild_id
            self.commands[command["name"]] = stored
            synced.append(stored)
        return _json(synced)

    def _callback(self, call: RestCall, parts: list[str]) -> web.Response:
        kind = call.json["type"]
        interaction_id, token = parts[1], parts[2]
        message = None
        if kind in (4, 5):
            message = self._store_message(call.data, flags=call.flags)
            self._originals[token] = int(message["id"])
        if call.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        body: Payload = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(call.flags & EPHEMERAL),
            }
        }
        if message is not None:
            body["resource"] = {"type": kind, "message": message}
        return _json(body)

    def _original(self, call: RestCall, parts: list[str]) -> web.Response:
        token = parts[2]
        message_id = self._originals.get(token) if parts[4] == "@original" else int(parts[4])
        if message_id is None or message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if call.method == "DELETE":
            del self.messages[message_id]
            return web.Response(status=204)
        if call.method == "PATCH":
            self.messages[message_id].update(_message_fields(call.data))
        return _json(self.messages[message_id])

    def _followup(self, call: RestCall, parts: list[str]) -> web.Response:
        return _json(self._store_message(call.data, flags=call.flags))

    def _channel_post(self, call: RestCall, parts: list[str]) -> web.Response:
        return _json(self._store_message(call.data, flags=call.flags))

    def _channel_edit(self, call: RestCall, parts: list[str]) -> web.Response:
        message_id = int(parts[3])
        if message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if call.method == "DELETE":
            del self.messages[message_id]
            return web.Response(status=204)
        self.messages[message_id].update(_message_fields(call.data))
        return _json(self.messages[message_id])

    def _store_message(self, data: Payload, *, flags: int) -> Payload:
        message = payloads.message(
            channel_id=self.guild.channel_id,
            guild_id=self.guild.id,
            author=self.bot_user,
            flags=flags,
        )
        message.update(_message_fields(data))
        self.messages[int(message["id"])] = message
        return message

    async def _attachment(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(int(request.match_info["id"]))
        if upload is None:
            return web.Response(status=404)
        return web.Response(body=upload.content, headers={"Content-Type": upload.content_type})

    # -- waiting on calls --------------------------------------------------------------

    async def wait_call(
        self, predicate: Callable[[RestCall], bool], *, timeout: float = 5.0, start: int = 0
    ) -> RestCall:
        """The first call from index ``start`` on that matches, waiting up to ``timeout``."""

        def found() -> RestCall | None:
            return next((c for c in self.calls[start:] if predicate(c)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        call = found()
        assert call is not None
        return call

    def original(self, sent: Sent) -> Payload:
        """The message the bot answered ``sent`` with, as it stands now."""
        return self.messages[self._originals[sent.token]]

    def calls_for(self, sent: Sent) -> list[RestCall]:
        return [c for c in self.calls if sent.owns(c, self.application_id)]

    async def callback(self, sent: Sent, timeout: float = 5.0) -> RestCall:
        """The interaction response (the acknowledgement) the bot gave to ``sent``."""
        return await self.wait_call(
            lambda c: c.path == f"/interactions/{sent.id}/{sent.token}/callback", timeout=timeout
        )

    async def reply(
        self,
        sent: Sent,
        predicate: Callable[[RestCall], bool] = lambda c: True,
        timeout: float = 10.0,
    ) -> RestCall:
        """The first edit or follow-up to ``sent`` that matches ``predicate``."""
        return await self.wait_call(
            lambda c: (
                sent.owns(c, self.application_id)
                and c.method in ("PATCH", "POST")
                and not c.path.endswith("/callback")
                and predicate(c)
            ),
            timeout=timeout,
        )

    # -- injecting ---------------------------------------------------------------------

    async def wait_ready(self, identifies: int = 1, timeout: float = 10.0) -> None:
        """Until the bot has identified ``identifies`` times and got its guild."""
        await self.gateway.wait(lambda: self.gateway.identifies >= identifies, timeout)

    async def _send_interaction(self, payload: Payload) -> Sent:
        sent_at = await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return Sent(int(payload["id"]), payload["token"], payload, sent_at)

    async def slash(
        self, name: str, user: Person, **options: str | int | bool | float | Upload
    ) -> Sent:
        """A user runs ``/name option:value ...``."""
        return await self._send_interaction(self._command(2, name, user, options, focused=None))

    async def autocomplete(
        self, name: str, user: Person, focused: str, **options: str | int | bool | float
    ) -> Sent:
        """A user types into option ``focused`` of ``/name``."""
        return await self._send_interaction(self._command(4, name, user, options, focused))

    def _command(
        self, kind: int, name: str, user: Person, options: dict[str, Any], focused: str | None
    ) -> Payload:
        command = self.commands.get(name)
        if command is None:
            raise KeyError(f"/{name} was not synced; synced: {sorted(self.commands)}")
        types = {o["name"]: o["type"] for o in command.get("options", [])}
        data: Payload = {"id": command["id"], "name": name, "type": 1, "options": []}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        for key, value in options.items():
            option: Payload = {"name": key, "type": types[key], "value": value}
            if isinstance(value, Upload):
                option["value"] = self._attach(data, value)
            if key == focused:
                option["focused"] = True
            data["options"].append(option)
        return payloads.interaction(
            kind=kind, application_id=self.application_id, guild=self.guild, user=user, data=data
        )

    def _attach(self, data: Payload, upload: Upload) -> str:
        attachment_id = snowflake()
        self.uploads[attachment_id] = upload
        url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{upload.filename}"
        data.setdefault("resolved", {}).setdefault("attachments", {})[str(attachment_id)] = {
            "id": str(attachment_id),
            "filename": upload.filename,
            "size": len(upload.content),
            "url": url,
            "proxy_url": url,
            "content_type": upload.content_type,
        }
        return str(attachment_id)

    async def click(
        self, message_id: int, custom_id: str, user: Person, values: list[str] | None = None
    ) -> Sent:
        """A user clicks a button or picks ``values`` in a select of a bot message."""
        message = self.messages[message_id]
        component = _find_component(message.get("components", []), custom_id)
        data: Payload = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            data["values"] = values
        payload = payloads.interaction(
            kind=3,
            application_id=self.application_id,
            guild=self.guild,
            user=user,
            data=data,
            message_payload=message,
        )
        return await self._send_interaction(payload)

    async def submit_modal(self, opened: RestCall, user: Person, **values: str) -> Sent:
        """A user fills in the modal the bot opened with ``opened`` (a callback of type 9)."""
        modal = opened.json["data"]
        components = [_filled(row, values) for row in modal["components"]]
        data = {"custom_id": modal["custom_id"], "components": components}
        payload = payloads.interaction(
            kind=5, application_id=self.application_id, guild=self.guild, user=user, data=data
        )
        return await self._send_interaction(payload)

    async def post_message(self, content: str, user: Person) -> Payload:
        """A user writes ``content`` in the channel."""
        message = payloads.message(
            channel_id=self.guild.channel_id,
            guild_id=self.guild.id,
            author=user,
            content=content,
            with_member=True,
        )
        self.messages[int(message["id"])] = message
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return message


# -- helpers ---------------------------------------------------------------------------


async def _read_body(request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    if not request.body_exists:
        return None, {}
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: dict[str, tuple[str, bytes]] = {}
        reader = await request.multipart()
        async for part in reader:
            content = await part.read()  # type: ignore[union-attr]
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(content)
            else:
                files[part.name or ""] = (part.filename or "", bytes(content))  # type: ignore[union-attr]
        return body, files
    text = await request.text()
    return (json.loads(text) if text else None), {}


def _json(data: Any, status: int = 200) -> web.Response:
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": JSON})


def _message_fields(data: Payload) -> Payload:
    fields: Payload = {
        k: data[k] for k in ("content", "embeds", "components", "flags") if k in data
    }
    if "attachments" in data:
        fields["attachments"] = [
            {
                "id": str(snowflake()),
                "filename": a.get("filename", "file"),
                "size": 0,
                "url": "http://127.0.0.1/none",
                "proxy_url": "http://127.0.0.1/none",
            }
            for a in data["attachments"]
        ]
    return fields


def _find_component(rows: list[Payload], custom_id: str) -> Payload:
    for row in rows:
        for component in row.get("components", [row]):
            if component.get("custom_id") == custom_id:
                return component
    raise KeyError(f"no component {custom_id!r} in the message")


def _filled(row: Payload, values: dict[str, str]) -> Payload:
    def fill(component: Payload) -> Payload:
        return {
            "type": component["type"],
            "custom_id": component["custom_id"],
            "value": values.get(component["custom_id"], component.get("value") or ""),
        }

    if row["type"] == 18:
        return {"type": 18, "component": fill(row["component"])}
    return {"type": 1, "components": [fill(c) for c in row["components"]]}


def _shape(parts: list[str]) -> tuple[str, ...]:
    """The route pattern of a path: ids and tokens become ``*``."""
    keep = {
        "users",
        "@me",
        "oauth2",
        "applications",
        "commands",
        "guilds",
        "interactions",
        "callback",
        "webhooks",
        "messages",
        "@original",
        "channels",
    }
    return tuple(p if p in keep else "*" for p in parts)


Handler = Callable[[DiscordDouble, RestCall, list[str]], web.Response]
_ROUTES: dict[tuple[str, tuple[str, ...]], Handler] = {
    ("GET", ("users", "@me")): DiscordDouble._me,
    ("GET", ("oauth2", "applications", "@me")): DiscordDouble._application,
    ("PUT", ("applications", "*", "commands")): DiscordDouble._sync,
    ("PUT", ("applications", "*", "guilds", "*", "commands")): DiscordDouble._sync,
    ("POST", ("interactions", "*", "*", "callback")): DiscordDouble._callback,
    ("GET", ("webhooks", "*", "*", "messages", "@original")): DiscordDouble._original,
    ("PATCH", ("webhooks", "*", "*", "messages", "@original")): DiscordDouble._original,
    ("DELETE", ("webhooks", "*", "*", "messages", "@original")): DiscordDouble._original,
    ("PATCH", ("webhooks", "*", "*", "messages", "*")): DiscordDouble._original,
    ("POST", ("webhooks", "*", "*")): DiscordDouble._followup,
    ("POST", ("channels", "*", "messages")): DiscordDouble._channel_post,
    ("PATCH", ("channels", "*", "messages", "*")): DiscordDouble._channel_edit,
    ("DELETE", ("channels", "*", "messages", "*")): DiscordDouble._channel_edit,
}
