"""Accepting messages: validate, render-ready, persist first, then wake the desk."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agents.registry import Agent, Registry
from agents.source import RegistrySource
from config import Settings
from messaging.desk import Desk
from messaging.errors import (
    ControlCharacterError,
    EmptyMessageError,
    IdempotencyConflictError,
    InvalidMessageTypeError,
    InvalidPriorityError,
    MessageTooLongError,
    MessagingError,
    NoRecipientsError,
    UnknownMessageError,
    shown,
)
from messaging.model import Lane, Message, MessageType, Priority
from messaging.store import AgentQueue, HistoryEntry, Store

MAX_KEY_LENGTH = 200
MAX_SENDER_LENGTH = 64
MAX_SEARCH_LENGTH = 1000
TEXT_CONTROLS = "\t\n\r"  # the control characters a message may hold: tabs and line breaks


class InvalidKeyError(MessagingError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"idempotency key {shown(key)} is not allowed; use one line of 1 to {MAX_KEY_LENGTH} "
            "printable characters"
        )


class InvalidSearchError(MessagingError):
    def __init__(self, search: str, problem: str) -> None:
        super().__init__(f"search {shown(search, 40)} {problem}; search for words of plain text")


class InvalidSenderError(MessagingError):
    def __init__(self, sender: str) -> None:
        super().__init__(
            f"sender {shown(sender)} is not allowed; use one line of 1 to {MAX_SENDER_LENGTH} "
            "printable characters (no line breaks or control characters)"
        )


@dataclass(frozen=True)
class Submission:
    message: Message
    created: bool  # False when an idempotency key matched a message already stored


class MessageService:
    def __init__(
        self,
        store: Store,
        registry: RegistrySource,
        desk: Desk,
        settings: Settings,
        *,
        screen_enabled: bool,
        tmux_enabled: bool = False,
        remote: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.desk = desk
        self.settings = settings
        self.screen_enabled = screen_enabled
        self.tmux_enabled = tmux_enabled
        self.remote = remote  # whether an agent is on the desk of another machine

    async def send(
        self,
        recipients: Sequence[str],
        body: str,
        *,
        sender: str | None = None,
        type: MessageType | str = MessageType.OPERATOR,
        priority: Priority | str = Priority.NORMAL,
        tags: Iterable[str] = (),
        key: str | None = None,
        reply_to: str | None = None,
        ack_required: bool = False,
    ) -> Submission:
        registry = self.registry.current()
        agents = registry.resolve(recipients)
        if not agents:
            raise NoRecipientsError("name at least one agent")
        if reply_to is not None:
            await self._stored(reply_to)
        message = Message(
            sender=_checked_sender(
                self.settings.messaging.operator_name if sender is None else sender
            ),
            recipients=tuple(agents),
            body=self._checked_body(body),
            type=parse_type(type),
            priority=parse_priority(priority),
            tags=tuple(tags),
            key=_checked_key(key),
            reply_to=reply_to,
            ack_required=ack_required,
        )
        return await self._submit(message, registry)

    def agent_sender(self, agent_id: str) -> str:
        """``agent_id`` as the sender of a message, when it is a known agent."""
        return self.registry.current().get(agent_id).agent_id

    async def acknowledge(self, agent_id: str, message_ids: Sequence[str]) -> list[str]:
        """``agent_id`` acknowledges these messages; the ids newly acknowledged."""
        self.registry.current().get(agent_id)
        for message_id in message_ids:
            await self._stored(message_id)
        return await self.store.acknowledge(agent_id, message_ids)

    async def thread(self, message_id: str) -> list[HistoryEntry]:
        """The thread of ``message_id``, oldest first."""
        await self._stored(message_id)
        return await self.store.thread(message_id)

    async def broadcast(
        self,
        body: str,
        *,
        exclude: Iterable[str] = (),
        sender: str | None = None,
        priority: Priority | str = Priority.NORMAL,
        key: str | None = None,
    ) -> Submission:
        registry = self.registry.current()
        excluded = set(registry.resolve(exclude, require_active=False))
        targets = [a.agent_id for a in registry.active() if a.agent_id not in excluded]
        if not targets:
            raise NoRecipientsError("every active agent is excluded")
        return await self.send(
            targets, body, sender=sender, type=MessageType.BROADCAST, priority=priority, key=key
        )

    async def onboard(
        self, texts: dict[str, str], *, sender: str | None = None
    ) -> list[Submission]:
        """One onboarding message per agent (each text names its agent)."""
        registry = self.registry.current()
        registry.resolve(texts)
        return [
            await self.send(
                [agent_id],
                text,
                sender=sender or "System",
                type=MessageType.ONBOARDING,
                priority=Priority.URGENT,
            )
            for agent_id, text in texts.items()
        ]

    async def retry(self, message_id: str) -> list[str]:
        """Queue again the deliveries of a message that did not reach the screen, each on
        the lane its agent gets today (a possible repeat only ever to the inbox)."""
        entry = await self._stored(message_id)
        registry = self.registry.current()
        lanes = {
            agent_id: self._lane(registry.get(agent_id), entry.message.type)
            for agent_id in entry.message.recipients
            if agent_id in registry  # one no longer in the file fails again, with its reason
        }
        agents = await self.store.requeue(message_id, lanes)
        self.desk.wake()
        return agents

    async def history(
        self, *, agent: str | None = None, limit: int = 20, search: str | None = None
    ) -> list[HistoryEntry]:
        if agent is not None:
            self.registry.current().get(agent)
        if not 1 <= limit <= 1000:
            raise ValueError(f"limit {limit} is out of range; use 1 to 1000")
        return await self.store.history(agent=agent, limit=limit, search=_checked_search(search))

    async def status(self) -> list[AgentQueue]:
        return await self.store.queues(self.registry.current().ids)

    async def audit(
        self, actor: str, command: str, arguments: dict[str, Any], outcome: str
    ) -> None:
        await self.store.audit(actor, command, arguments, outcome)

    async def _submit(self, message: Message, registry: Registry) -> Submission:
        lanes = {
            agent_id: self._lane(registry.get(agent_id), message.type)
            for agent_id in message.recipients
        }
        stored, created = await self.store.insert(message, lanes)
        if not created and (
            stored.body != message.body or set(stored.recipients) != set(message.recipients)
        ):
            assert message.key is not None
            raise IdempotencyConflictError(message.key, stored.id)
        if created:
            self.desk.wake()
        return Submission(stored, created)

    async def find(self, message_id: str) -> HistoryEntry | None:
        """The message of an id from outside, if there is one (any text: ids are printable,
        and one that is no text SQLite can hold names no message)."""
        return await self.store.message(message_id) if message_id.isprintable() else None

    async def _stored(self, message_id: str) -> HistoryEntry:
        entry = await self.find(message_id)
        if entry is None:
            raise UnknownMessageError(message_id)
        return entry

    def _lane(self, agent: Agent, type: MessageType) -> Lane:
        if self.remote is not None and self.remote(agent.agent_id):
            return Lane.REMOTE
        if agent.tmux is not None:  # a terminal agent in tmux: its pane, display or not
            return Lane.TMUX if self.tmux_enabled else Lane.INBOX
        point = agent.onboarding_point if type is MessageType.ONBOARDING else agent.chat_point
        return Lane.SCREEN if self.screen_enabled and point is not None else Lane.INBOX

    def _checked_body(self, body: str) -> str:
        if not body or not body.strip():
            raise EmptyMessageError()
        maximum = self.settings.messaging.max_message_length
        if len(body) > maximum:
            raise MessageTooLongError(len(body), maximum)
        for position, char in enumerate(body):
            if char not in TEXT_CONTROLS and unicodedata.category(char) in ("Cc", "Cs"):
                raise ControlCharacterError(char, position)
        return body


def parse_priority(value: Priority | str) -> Priority:
    try:
        return Priority(str(value).lower())
    except ValueError:
        raise InvalidPriorityError(value, [p.value for p in Priority]) from None


def parse_type(value: MessageType | str) -> MessageType:
    try:
        return MessageType(str(value).lower())
    except ValueError:
        raise InvalidMessageTypeError(value, [t.value for t in MessageType]) from None


def _checked_sender(sender: str) -> str:
    if not (0 < len(sender) <= MAX_SENDER_LENGTH and sender.isprintable() and sender.strip()):
        raise InvalidSenderError(sender)
    return sender


def _checked_key(key: str | None) -> str | None:
    if key is not None and not (
        0 < len(key) <= MAX_KEY_LENGTH and key.isprintable() and key.strip()
    ):
        raise InvalidKeyError(key)
    return key


def _checked_search(search: str | None) -> str | None:
    if search is None:
        return None
    if len(search) > MAX_SEARCH_LENGTH:
        raise InvalidSearchError(
            search, f"is {len(search)} characters; use at most {MAX_SEARCH_LENGTH}"
        )
    if not search.isprintable():
        raise InvalidSearchError(search, "holds a control character")
    return search
