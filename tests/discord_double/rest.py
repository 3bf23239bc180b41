"""The REST half of the double: the routes a discord.py bot calls, answered from state a
test can inspect (messages, synced commands), every request recorded as a :class:`RestCall`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.discord_double import commands as registration
from tests.discord_double import limits, payloads
from tests.discord_double.gateway import PRIVILEGED_INTENTS
from tests.discord_double.interactions import Callback, Clock, DiscordError, Ledger, Ticket
from tests.discord_double.payloads import Guild, Payload, Person, snowflake

API_PREFIX = "/api/v10"
EPHEMERAL = 64
LOADING = 128  # "Message Object › Message Flags": a deferred "thinking…" message
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
class RestApi:
    """Discord's REST routes over this state; :class:`DiscordDouble` serves them."""

    guild: Guild = field(default_factory=Guild)
    bot_user: Person = field(default_factory=lambda: Person(snowflake(), "cellphone", bot=True))
    application_id: int = field(default_factory=snowflake)
    calls: list[RestCall] = field(default_factory=list)
    messages: dict[int, Payload] = field(default_factory=dict)
    commands: dict[str, Payload] = field(default_factory=dict)
    token: str | None = None  # when set, any other bot token is refused with 401
    commands_scope: bool = True  # False: invited without applications.commands (sync gets 403)
    upload_limit: int = payloads.ATTACHMENT_SIZE_LIMIT  # sent with interactions from now on
    # False: the app was added with applications.commands only, no bot user in the guild:
    # READY lists no guild and no GUILD_CREATE comes, yet its commands work there
    bot_in_guild: bool = True
    # the privileged intents enabled for the app in the Developer Portal (Bot page)
    privileged_intents: int = PRIVILEGED_INTENTS

    def __post_init__(self) -> None:
        self.uploads: dict[int, Upload] = {}
        self.dm_channels: set[int] = set()  # DM channels of users with the bot
        self.foreign_dms: set[int] = set()  # DMs between people, seen in interactions
        # synced commands by scope: None is global, else a guild id ("Bulk Overwrite")
        self.scopes: dict[int | None, dict[str, Payload]] = {}
        self.clock = Clock()
        self.ledger = Ledger(self.clock)
        self.refused: list[tuple[RestCall, DiscordError]] = []  # every error answer given
        self._faults: list[Fault] = []
        self._limits: list[Limit] = []
        self.rate_limited: list[tuple[RestCall, bool]] = []  # each 429 given: call, global
        self._changed = asyncio.Condition()
        self.port = 0

    def rate_limit(
        self, matches: Callable[[RestCall], bool], retry_after: float = 0.25, times: int = 1
    ) -> None:
        """Answer the next ``times`` calls that match with a 429 of their route's bucket
        ("Topics › Rate Limits › Exceeding A Rate Limit")."""
        self._limits.append(Limit(matches, retry_after, times, is_global=False))

    def global_rate_limit(self, retry_after: float = 0.25, times: int = 1) -> None:
        """Answer the next ``times`` calls with a global 429, as when the bot went over
        50 requests a second ("Topics › Rate Limits › Global Rate Limit"); interaction
        routes are not bound to the global limit, so those go through."""
        self._limits.append(
            Limit(
                lambda call: not self._interaction_route(call), retry_after, times, is_global=True
            )
        )

    def refuse(
        self, matches: Callable[[RestCall], bool], error: DiscordError, times: int = 1
    ) -> None:
        """Answer the next ``times`` calls that match with ``error`` (a failure Discord
        may give at any time, such as a 5xx or a permission changed meanwhile)."""
        self._faults.append(Fault(matches, error, times))

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
        limited = self._rate_limited(call)
        if limited is not None:
            return limited
        try:
            self._injected(call)
            limits.check_upload(call.files, self._upload_limit(parts))
            if call.method in ("POST", "PATCH") and "/callback" not in call.path:
                limits.check_message(call.data)
            return route(self, call, parts)
        except DiscordError as error:
            self.refused.append((call, error))
            return _json(error.body(), status=error.status)

    def _rate_limited(self, call: RestCall) -> web.Response | None:
        for limit in self._limits:
            if limit.times > 0 and limit.matches(call):
                limit.times -= 1
                self.rate_limited.append((call, limit.is_global))
                return _too_many(limit, bucket=str(_shape(call.path.strip("/").split("/"))))
        return None

    def _interaction_route(self, call: RestCall) -> bool:
        """A route of an interaction's token: its callback, follow-ups and @original."""
        parts = call.path.strip("/").split("/")
        if parts[0] == "interactions":
            return True
        return parts[0] == "webhooks" and len(parts) > 2 and parts[2] in self.ledger.tickets

    def _injected(self, call: RestCall) -> None:
        for fault in self._faults:
            if fault.times > 0 and fault.matches(call):
                fault.times -= 1
                raise fault.error

    def _upload_limit(self, parts: list[str]) -> int:
        """The largest file a request may carry: an interaction's answers and follow-ups
        its ``attachment_size_limit``, a channel post the guild's limit."""
        token = {"interactions": 2, "webhooks": 2}.get(parts[0])
        ticket = self.ledger.tickets.get(parts[token]) if token and len(parts) > token else None
        return ticket.upload_limit if ticket is not None else payloads.ATTACHMENT_SIZE_LIMIT

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
        """ "Bulk Overwrite Global/Guild Application Commands": the list replaces the whole
        list of its scope, after validation (400 / 50035)."""
        if not self.commands_scope:
            return _json({"message": "Missing Access", "code": 50001}, status=403)
        guild_id = int(parts[3]) if len(parts) > 4 else None
        registration.validate(call.json)
        synced = []
        for command in call.json:
            stored = {
                **command,
                "id": str(snowflake()),
                "application_id": str(self.application_id),
                "version": str(snowflake()),
            }
            if guild_id:
                stored["guild_id"] = str(guild_id)
            synced.append(stored)
        self.scopes[guild_id] = {c["name"]: c for c in synced}
        self.commands = {**self.scopes.get(None, {}), **self.scopes.get(self.guild.id, {})}
        return _json(synced)

    def _callback(self, call: RestCall, parts: list[str]) -> web.Response:
        kind = call.json["type"]
        interaction_id, token = parts[1], parts[2]
        if kind == Callback.MODAL:
            limits.check_modal(call.data)
        elif kind in (Callback.CHANNEL_MESSAGE_WITH_SOURCE, Callback.UPDATE_MESSAGE):
            limits.check_message(call.data)
        ticket = self.ledger.answerable(interaction_id, token)
        message = None
        if kind in (Callback.DEFERRED_UPDATE_MESSAGE, Callback.UPDATE_MESSAGE):
            message = self._component_message(ticket)
        self.ledger.accept(ticket, kind)
        if kind == Callback.CHANNEL_MESSAGE_WITH_SOURCE:
            message = self._store_message(call.data, flags=call.flags)
        elif kind == Callback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            message = self._store_message({}, flags=(call.flags & EPHEMERAL) | LOADING)
            ticket.loading = True
        elif kind == Callback.UPDATE_MESSAGE:
            assert message is not None
            self._edit(int(message["id"]), call.data)
        if message is not None:
            ticket.original_id = int(message["id"])
            ticket.ephemeral = bool(int(message["flags"]) & EPHEMERAL)
        if call.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        body: Payload = {
            "interaction": {
                "id": interaction_id,
                "type": ticket.kind,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": ticket.loading,
                "response_message_ephemeral": ticket.ephemeral,
            }
        }
        if message is not None:
            body["resource"] = {"type": kind, "message": message}
        return _json(body)

    def _component_message(self, ticket: Ticket) -> Payload:
        """Types 6 and 7 answer for the message the component is on ("Interaction
        Callback Type": only valid for component-based interactions)."""
        if ticket.message_id is None:
            raise DiscordError(
                400, 50035, "Invalid Form Body", errors={"type": "needs a component message"}
            )
        message = self.messages.get(ticket.message_id)
        if message is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    def _original(self, call: RestCall, parts: list[str]) -> web.Response:
        ticket = self.ledger.webhook(parts[2])
        if parts[4] != "@original":
            message_id: int | None = int(parts[4])
        else:
            message_id = ticket.original_id if ticket else None
        if message_id is None or message_id not in self.messages:
            raise DiscordError(404, 10008, "Unknown Message")
        if call.method == "GET":
            return _json(self.messages[message_id])
        if ticket is not None and message_id == ticket.original_id:
            ticket.loading = False  # edited or deleted: no longer "thinking…"
        if call.method == "DELETE":
            del self.messages[message_id]
            return web.Response(status=204)
        return _json(self._edit(message_id, call.data))

    def _followup(self, call: RestCall, parts: list[str]) -> web.Response:
        """ "Create Followup Message": the first follow-up after a deferred response
        replaces the loading message, and its flags are ignored: it is as private as the
        deferral was."""
        ticket = self.ledger.webhook(parts[2])
        if ticket is not None and ticket.loading and ticket.original_id in self.messages:
            ticket.loading = False
            assert ticket.original_id is not None
            fields = {k: v for k, v in call.data.items() if k != "flags"}
            return _json(self._edit(ticket.original_id, fields))
        return _json(self._store_message(call.data, flags=call.flags))

    def _edit(self, message_id: int, data: Payload) -> Payload:
        message = self.messages[message_id]
        flags = int(message.get("flags") or 0)
        message.update(_message_fields(data))
        message["flags"] = (flags & EPHEMERAL) | (int(data.get("flags") or 0) & ~EPHEMERAL)
        message["edited_timestamp"] = payloads.now_iso()
        return message

    def add_channel(self, name: str, **access: bool) -> payloads.Channel:
        """Another text channel of the guild (give it before the bot connects, so that
        its GUILD_CREATE has it); ``view``, ``send``, ``attach`` False deny the bot that."""
        channel = payloads.Channel(snowflake(), name, **access)
        self.guild.more_channels.append(channel)
        return channel

    def _channel_of(self, channel_id: int) -> payloads.Channel:
        """The channel a route names, if the bot can see it ("JSON Error Codes": 10003
        Unknown Channel; 50001 Missing Access for a channel the bot cannot view)."""
        if channel_id == self.guild.channel_id:
            return payloads.Channel(channel_id, self.guild.channel_name)
        if channel_id in self.dm_channels:
            return payloads.Channel(channel_id, "dm")
        if channel_id in self.foreign_dms:  # a DM the bot is not in
            raise DiscordError(403, 50001, "Missing Access")
        channel = next((c for c in self.guild.more_channels if c.id == channel_id), None)
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        if not channel.view:
            raise DiscordError(403, 50001, "Missing Access")
        return channel

    def _get_channel(self, call: RestCall, parts: list[str]) -> web.Response:
        """ "Channel Resource › Get Channel"."""
        channel_id = int(parts[1])
        channel = self._channel_of(channel_id)
        if channel_id == self.guild.channel_id:
            return _json(self.guild.channel())
        return _json(channel.payload(self.guild.id, self.bot_user.id))

    def _channel_post(self, call: RestCall, parts: list[str]) -> web.Response:
        """ "Channel Resource › Create Message": needs SEND_MESSAGES, and ATTACH_FILES
        for files (else 403 / 50013 Missing Permissions)."""
        channel = self._channel_of(int(parts[1]))
        if not channel.send or (call.files and not channel.attach):
            raise DiscordError(403, 50013, "Missing Permissions")
        data = self._referencing(call.data, channel.id)
        return _json(self._store_message(data, flags=call.flags, channel_id=channel.id))

    def _referencing(self, data: Payload, channel_id: int) -> Payload:
        """A reply's ``message_reference`` ("Message Resource › Message Reference"): a
        message that is not there (deleted) is refused with 400 / 50035, unless
        ``fail_if_not_exists`` is false, when the message is posted without it."""
        reference = data.get("message_reference")
        if not reference or "message_id" not in reference:
            return data
        target = self.messages.get(int(reference["message_id"]))
        if target is not None and int(target["channel_id"]) == channel_id:
            return data
        if reference.get("fail_if_not_exists", True):
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                errors={
                    "message_reference": {
                        "_errors": [
                            {
                                "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                "message": "Unknown message",
                            }
                        ]
                    }
                },
            )
        return {k: v for k, v in data.items() if k != "message_reference"}

    def _channel_edit(self, call: RestCall, parts: list[str]) -> web.Response:
        self._channel_of(int(parts[1]))
        message_id = int(parts[3])
        if message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if call.method == "DELETE":
            del self.messages[message_id]
            return web.Response(status=204)
        return _json(self._edit(message_id, call.data))

    def _store_message(
        self, data: Payload, *, flags: int, channel_id: int | None = None
    ) -> Payload:
        message = payloads.message(
            channel_id=channel_id or self.guild.channel_id,
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

    def answer_to(self, token: str) -> Payload:
        """The message the bot answered the interaction of ``token`` with, as it is now."""
        original = self.ledger.tickets[token].original_id
        assert original is not None, "the interaction has no response message"
        return self.messages[original]


@dataclass
class Limit:
    """A rate limit the double applies on purpose to the next calls that match."""

    matches: Callable[[RestCall], bool]
    retry_after: float
    times: int
    is_global: bool


def _too_many(limit: Limit, bucket: str) -> web.Response:
    """A 429 as Discord gives it: ``retry_after`` in the body and the rate limit headers,
    ``Via`` among them as on every answer through Discord's edge (discord.py takes a 429
    without it for a Cloudflare ban and does not retry)."""
    body = {
        "message": "You are being rate limited.",
        "retry_after": limit.retry_after,
        "global": limit.is_global,
        "code": 0,
    }
    response = _json(body, status=429)
    response.headers["Via"] = "1.1 google"
    response.headers["Retry-After"] = str(max(1, round(limit.retry_after)))
    response.headers["X-RateLimit-Scope"] = "global" if limit.is_global else "user"
    if limit.is_global:
        response.headers["X-RateLimit-Global"] = "true"
    else:
        response.headers["X-RateLimit-Limit"] = "5"
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset-After"] = str(limit.retry_after)
        response.headers["X-RateLimit-Bucket"] = f"bucket-{abs(hash(bucket)):x}"
    return response


@dataclass
class Fault:
    """An error the double gives on purpose to the next calls that match."""

    matches: Callable[[RestCall], bool]
    error: DiscordError
    times: int


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
        k: data[k]
        for k in ("content", "embeds", "components", "flags", "message_reference")
        if k in data
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


Handler = Callable[[RestApi, RestCall, list[str]], web.Response]
_ROUTES: dict[tuple[str, tuple[str, ...]], Handler] = {
    ("GET", ("users", "@me")): RestApi._me,
    ("GET", ("oauth2", "applications", "@me")): RestApi._application,
    ("PUT", ("applications", "*", "commands")): RestApi._sync,
    ("PUT", ("applications", "*", "guilds", "*", "commands")): RestApi._sync,
    ("POST", ("interactions", "*", "*", "callback")): RestApi._callback,
    ("GET", ("webhooks", "*", "*", "messages", "@original")): RestApi._original,
    ("PATCH", ("webhooks", "*", "*", "messages", "@original")): RestApi._original,
    ("DELETE", ("webhooks", "*", "*", "messages", "@original")): RestApi._original,
    ("PATCH", ("webhooks", "*", "*", "messages", "*")): RestApi._original,
    ("POST", ("webhooks", "*", "*")): RestApi._followup,
    ("GET", ("channels", "*")): RestApi._get_channel,
    ("POST", ("channels", "*", "messages")): RestApi._channel_post,
    ("PATCH", ("channels", "*", "messages", "*")): RestApi._channel_edit,
    ("DELETE", ("channels", "*", "messages", "*")): RestApi._channel_edit,
}
