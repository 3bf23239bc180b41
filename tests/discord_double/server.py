"""The object tests hold: the double served on 127.0.0.1 (REST and gateway), with ways to
wait for what the bot did and to inject what users do (commands, clicks, modal submits,
messages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.discord_double import payloads
from tests.discord_double.gateway import (
    AUTHENTICATION_FAILED,
    DISALLOWED_INTENTS,
    PRIVILEGED_INTENTS,
    Gateway,
)
from tests.discord_double.payloads import Payload, Person, Role, snowflake
from tests.discord_double.rest import API_PREFIX, RestApi, RestCall, Upload

MESSAGE_CONTENT = 1 << 15  # "Gateway › Gateway Intents": MESSAGE_CONTENT, privileged
DM_CHANNEL_BASE = 7 * 10**17  # the id of a user's DM channel with the bot: this + user id


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
class DiscordDouble(RestApi):
    """A Discord API double on 127.0.0.1. ``async with DiscordDouble() as double:``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.gateway = Gateway(self._ready_events, self._admit)
        self._runner: web.AppRunner | None = None

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

    def _admit(self, identify: Payload) -> int | None:
        """The close code refusing an IDENTIFY, if it is refused: a token other than the
        bot's (4004), or a privileged intent the Developer Portal has not enabled (4014)."""
        if self.token is not None and identify.get("token") != self.token:
            return AUTHENTICATION_FAILED
        if int(identify.get("intents") or 0) & PRIVILEGED_INTENTS & ~self.privileged_intents:
            return DISALLOWED_INTENTS
        return None

    def _ready_events(self, session_id: str) -> list[tuple[str, Payload]]:
        """ "Gateway Events › Ready": the guilds the bot is in, unavailable until their
        GUILD_CREATE follows. An app in a guild without its bot user gets neither."""
        guilds = [{"id": str(self.guild.id), "unavailable": True}] if self.bot_in_guild else []
        ready = {
            "v": 10,
            "user": self.bot_user.user(),
            "guilds": guilds,
            "session_id": session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
        }
        if not self.bot_in_guild:
            return [("READY", ready)]
        return [("READY", ready), ("GUILD_CREATE", self.guild.create_payload(self.bot_user))]

    # -- waiting on the bot --------------------------------------------------------------

    def original(self, sent: Sent) -> Payload:
        """The message the bot answered ``sent`` with, as it stands now."""
        return self.answer_to(sent.token)

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
        self.ledger.open(payload)
        sent_at = await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return Sent(int(payload["id"]), payload["token"], payload, sent_at)

    def failed(self, sent: Sent) -> bool:
        """Whether the user of ``sent`` saw "This interaction failed": nothing answered it
        within Discord's 3 s on the double's clock (advance the clock to get there)."""
        return self.ledger.tickets[sent.token].failed(self.clock.now())

    def acknowledged_twice(self) -> list[RestCall]:
        """Callbacks refused because the interaction was already answered (40060)."""
        return [call for call, error in self.refused if error.code == 40060]

    async def slash(
        self, name: str, user: Person, **options: str | int | bool | float | Upload
    ) -> Sent:
        """A user runs ``/name option:value ...``."""
        return await self._send_interaction(self._command(2, name, user, options, focused=None))

    async def slash_in_dm(
        self,
        name: str,
        user: Person,
        private_channel: bool = False,
        **options: str | int | bool | float | Upload,
    ) -> Sent:
        """A user runs ``/name`` in their direct messages with the bot, or with
        ``private_channel`` in a DM with someone else ("Interaction Object › Interaction
        Context Types": BOT_DM 1, PRIVATE_CHANNEL 2). Only a global command allowed there
        can be; in a private channel only one the user installed ("Installation Context":
        integration_types with USER_INSTALL, 1). The interaction has no guild, no member,
        the user alone; the bot may write in its own DM with the user, not in another's."""
        payload = self._command(2, name, user, options, focused=None)
        command = self.scopes.get(None, {}).get(name.partition(" ")[0])
        if command is None:
            raise NotClickable(f"/{name} is not a global command: Discord offers it in DMs not")
        context = 2 if private_channel else 1
        contexts = command.get("contexts")
        if (context == 1 and command.get("dm_permission") is False) or (
            contexts is not None and context not in contexts
        ):
            raise NotClickable(f"/{name} is not allowed in DMs (contexts {contexts})")
        if private_channel and 1 not in (command.get("integration_types") or [0]):
            raise NotClickable(f"/{name} is not user-installable: not offered in other DMs")
        channel = DM_CHANNEL_BASE + user.id + (snowflake() if private_channel else 0)
        (self.foreign_dms if private_channel else self.dm_channels).add(channel)
        return await self._send_interaction(payloads.in_dm(payload, user, channel, context))

    async def autocomplete(
        self, name: str, user: Person, focused: str, **options: str | int | bool | float
    ) -> Sent:
        """A user types into option ``focused`` of ``/name``."""
        return await self._send_interaction(self._command(4, name, user, options, focused))

    def _command(
        self, kind: int, name: str, user: Person, options: dict[str, Any], focused: str | None
    ) -> Payload:
        name, _, sub = name.partition(" ")  # "backup create": a subcommand of /backup
        command = self.commands.get(name)
        if command is None:
            raise KeyError(f"/{name} was not synced; synced: {sorted(self.commands)}")
        data: Payload = {"id": command["id"], "name": name, "type": 1, "options": []}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        given, declared = data["options"], command.get("options", [])
        if sub:
            subcommand = next(o for o in declared if o["name"] == sub and o["type"] == 1)
            given.append({"name": sub, "type": 1, "options": []})
            given, declared = given[0]["options"], subcommand.get("options", [])
        types = {o["name"]: o["type"] for o in declared}
        for key, value in options.items():
            option: Payload = {"name": key, "type": types[key], "value": value}
            if isinstance(value, Upload):
                option["value"] = self._attach(data, value)
            if key == focused:
                option["focused"] = True
            given.append(option)
        return payloads.interaction(
            kind=kind,
            application_id=self.application_id,
            upload_limit=self.upload_limit,
            guild=self.guild,
            user=user,
            data=data,
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
        """A user clicks a button or picks ``values`` in a select of a bot message, as it
        stands now: a component an update took away or disabled cannot be clicked."""
        message = self.messages.get(message_id)
        if message is None:
            raise NotClickable(f"message {message_id} is gone (deleted)")
        component = _find_component(message.get("components", []), custom_id)
        if component.get("disabled"):
            raise NotClickable(f"component {custom_id!r} is disabled")
        data: Payload = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            data["values"] = values
        payload = payloads.interaction(
            kind=3,
            application_id=self.application_id,
            upload_limit=self.upload_limit,
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
            kind=5,
            application_id=self.application_id,
            upload_limit=self.upload_limit,
            guild=self.guild,
            user=user,
            data=data,
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
        mentioned = f"<@{self.bot_user.id}>" in content or f"<@!{self.bot_user.id}>" in content
        if mentioned:
            message["mentions"] = [self.bot_user.user()]
        self.messages[int(message["id"])] = message
        await self.gateway.dispatch("MESSAGE_CREATE", self._as_received(message, mentioned))
        return message

    async def delete_message(self, message: Payload) -> None:
        """Its author deletes ``message`` (one a user posted)."""
        del self.messages[int(message["id"])]
        deleted = {k: message[k] for k in ("id", "channel_id", "guild_id") if k in message}
        await self.gateway.dispatch("MESSAGE_DELETE", deleted)

    def _as_received(self, message: Payload, mentioned: bool) -> Payload:
        """ "Gateway › Privileged Intents › Message Content Intent": without the intent,
        a message's content, embeds, attachments, components and poll come empty, save in
        DMs, the app's own messages and messages that mention it."""
        if (self.gateway.intents or 0) & MESSAGE_CONTENT or mentioned:
            return message
        return {**message, "content": "", "embeds": [], "attachments": [], "components": []}


# -- helpers ---------------------------------------------------------------------------


class NotClickable(LookupError):
    """What a test tried to click is not on the screen of a Discord user."""


def _find_component(rows: list[Payload], custom_id: str) -> Payload:
    for row in rows:
        for component in row.get("components", [row]):
            if component.get("custom_id") == custom_id:
                return component
    raise NotClickable(f"no component {custom_id!r} in the message (any more)")


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
