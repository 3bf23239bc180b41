"""Discord's rules for interactions, as the double enforces them: one answer within 3 s,
a token that works for 15 minutes, the first follow-up after a deferral, and updates of the
message a component is on. Times come from a :class:`Clock` the tests can move on.

Each rule names the section of Discord's developer documentation it comes from
(docs.discord.com/developers, "Interactions › Receiving and Responding" unless said)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import IntEnum

from tests.discord_double.payloads import ATTACHMENT_SIZE_LIMIT, Payload

# "Responding to an Interaction": the initial response must come within 3 seconds of
# receiving the event, else the token is invalidated; the token works for 15 minutes.
RESPONSE_DEADLINE_S = 3.0
TOKEN_LIFETIME_S = 15 * 60.0


class Callback(IntEnum):
    """ "Interaction Callback Type"."""

    PONG = 1
    CHANNEL_MESSAGE_WITH_SOURCE = 4
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
    DEFERRED_UPDATE_MESSAGE = 6  # components only: the message stays, answered later
    UPDATE_MESSAGE = 7  # components only: the message the component is on is edited
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class Kind(IntEnum):
    """ "Interaction Object › Interaction Type"."""

    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class DiscordError(Exception):
    """An error answer as Discord gives it: HTTP status, JSON error code and message
    ("Topics › Opcodes and Status Codes › JSON Error Codes")."""

    def __init__(self, status: int, code: int, message: str, **extra: object) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> Payload:
        return {"message": self.message, "code": self.code, **self.extra}


def unknown_interaction() -> DiscordError:
    return DiscordError(404, 10062, "Unknown interaction")


def already_acknowledged() -> DiscordError:
    return DiscordError(400, 40060, "Interaction has already been acknowledged.")


def invalid_webhook_token() -> DiscordError:
    return DiscordError(401, 50027, "Invalid Webhook Token")


@dataclass
class Clock:
    """The double's time: real time plus whatever the tests advanced it by. A test that
    needs 3 s or 15 minutes to pass calls :meth:`advance` instead of sleeping."""

    offset: float = 0.0

    def now(self) -> float:
        return time.perf_counter() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Ticket:
    """One interaction the double sent, as Discord keeps track of it."""

    id: int
    token: str
    kind: int
    sent_at: float  # on the double's clock
    message_id: int | None = None  # the message a component is on
    answer: int | None = None  # the callback type that acknowledged it
    answered_at: float | None = None
    late: list[float] = field(default_factory=list)  # callbacks refused as too late
    original_id: int | None = None  # the message @original stands for
    loading: bool = False  # a deferred "thinking…" message nothing has replaced yet
    ephemeral: bool = False
    upload_limit: int = ATTACHMENT_SIZE_LIMIT  # the interaction's attachment_size_limit

    @property
    def deadline(self) -> float:
        return self.sent_at + RESPONSE_DEADLINE_S

    @property
    def expires(self) -> float:
        return self.sent_at + TOKEN_LIFETIME_S

    def failed(self, now: float) -> bool:
        """The user saw "This interaction failed": no answer came within 3 s."""
        return self.answer is None and now > self.deadline


class Ledger:
    """Every interaction the double sent, keyed by token, and the rules over them."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.tickets: dict[str, Ticket] = {}

    def open(self, payload: Payload) -> Ticket:
        message = payload.get("message")
        ticket = Ticket(
            id=int(payload["id"]),
            token=payload["token"],
            kind=int(payload["type"]),
            sent_at=self.clock.now(),
            message_id=int(message["id"]) if message else None,
            upload_limit=int(payload.get("attachment_size_limit", ATTACHMENT_SIZE_LIMIT)),
        )
        self.tickets[ticket.token] = ticket
        return ticket

    def answerable(self, interaction_id: str, token: str) -> Ticket:
        """The interaction an initial response is for, if it may still have one: once,
        within 3 s ("Responding to an Interaction"; 40060 and 10062 in "JSON Error
        Codes"). :meth:`accept` records the answer once the body was found valid."""
        ticket = self.tickets.get(token)
        if ticket is None or str(ticket.id) != interaction_id:
            raise unknown_interaction()
        now = self.clock.now()
        if ticket.answer is not None:
            raise already_acknowledged()
        if now > ticket.deadline:
            ticket.late.append(now)
            raise unknown_interaction()
        return ticket

    def accept(self, ticket: Ticket, callback: int) -> None:
        ticket.answer, ticket.answered_at = callback, self.clock.now()

    def webhook(self, token: str) -> Ticket | None:
        """The interaction behind a webhook route, if the token is one; after 15 minutes
        its token is refused ("Responding to an Interaction": tokens are valid for 15
        minutes; 50027 Invalid Webhook Token)."""
        ticket = self.tickets.get(token)
        if ticket is not None and self.clock.now() > ticket.expires:
            raise invalid_webhook_token()
        return ticket

    def failed(self) -> list[Ticket]:
        now = self.clock.now()
        return [t for t in self.tickets.values() if t.failed(now)]
