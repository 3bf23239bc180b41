"""The message model and the states of a delivery."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class MessageType(StrEnum):
    OPERATOR = "operator-to-agent"
    AGENT = "agent-to-agent"
    SYSTEM = "system"
    BROADCAST = "broadcast"
    ONBOARDING = "onboarding"


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Higher is delivered first."""
        return _RANKS[self]


_RANKS = {Priority.NORMAL: 0, Priority.URGENT: 1, Priority.CRITICAL: 2}

HELD = "held: "  # how the error of a delivery held in the queue (a draft, a busy agent) starts
_RETRIED = "; tried again every "


def held_error(reason: str, every: float) -> str:
    """The error a delivery held for ``reason`` is queued with: "held: <reason>; tried
    again every <every> s" (:func:`hold_reason` reads the reason back)."""
    return f"{HELD}{reason}{_RETRIED}{every:g} s"


def hold_reason(error: str) -> str | None:
    """Why a delivery is held, from its :func:`held_error`; None for any other error."""
    if not error.startswith(HELD):
        return None
    return error.removeprefix(HELD).rsplit(_RETRIED, 1)[0]


class DeliveryState(StrEnum):
    QUEUED = "queued"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FALLBACK = "fallback"  # delivered to the inbox because the screen could not be used
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = {
    DeliveryState.DELIVERED,
    DeliveryState.FALLBACK,
    DeliveryState.FAILED,
    DeliveryState.CANCELLED,
}


class DeliveryMethod(StrEnum):
    GUI = "gui"
    TMUX = "tmux"
    INBOX = "inbox"

    @property
    def types(self) -> bool:
        """Keys are pressed for the agent (a delivery caught mid-way may have been sent)."""
        return self is not DeliveryMethod.INBOX


class Lane(StrEnum):
    """Which worker of the desk takes a delivery: the one screen worker, the tmux worker
    (one pane at a time each, several panes side by side), the inbox writers, or the hand-over
    to the desk of another machine (``messaging.cluster``)."""

    SCREEN = "screen"
    TMUX = "tmux"
    INBOX = "inbox"
    REMOTE = "remote"


def new_message_id() -> str:
    """16 hex digits: short enough to type in ``/retry``, random enough never to collide."""
    return os.urandom(8).hex()  # what secrets.token_hex does, without loading hmac


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Message:
    sender: str
    recipients: tuple[str, ...]
    body: str
    type: MessageType = MessageType.OPERATOR
    priority: Priority = Priority.NORMAL
    tags: tuple[str, ...] = ()
    id: str = field(default_factory=new_message_id)
    created_at: datetime = field(default_factory=utc_now)
    key: str | None = None  # idempotency key: a second message with it is not created
    reply_to: str | None = None  # id of the message this one answers
    ack_required: bool = False  # each recipient is asked to acknowledge it


@dataclass(frozen=True)
class Delivery:
    """One (message, recipient) pair as the store keeps it."""

    message: Message
    agent_id: str
    state: DeliveryState
    lane: Lane
    method: DeliveryMethod | None = None
    attempts: int = 0
    last_error: str | None = None
    possible_repeat: bool = False
    updated_at: datetime | None = None
    delivered_at: datetime | None = None
    verified: bool | None = None  # typed: seen on screen or in the pane, or not looked at
    read_at: datetime | None = None  # the agent opened or moved its inbox file, or said so
    acked_at: datetime | None = None
    nudged_at: datetime | None = None  # reminded once, being unacknowledged too long
    overdue_at: datetime | None = None  # reported to the operator after the reminder


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery after an attempt; what the operator is told."""

    message_id: str
    agent_id: str
    state: DeliveryState
    method: DeliveryMethod | None
    reason: str | None = None  # why it fell back, failed, or is still queued
    possible_repeat: bool = False
    attempts: int = 0
    verified: bool | None = None  # typed: seen on screen or in the pane, or not looked at

    @property
    def summary(self) -> str:
        if self.state is DeliveryState.DELIVERED:
            text = f"delivered via {self.method}" + verification(self.verified, self.method)
        elif self.state is DeliveryState.FALLBACK:
            text = f"fell back to inbox: {self.reason}"
        elif self.state is DeliveryState.QUEUED:
            text = f"still queued after {self.attempts} attempt(s): {self.reason}"
        else:
            text = f"{self.state}: {self.reason}" if self.reason else str(self.state)
        return text + (" (possible repeat)" if self.possible_repeat else "")


def verification(verified: bool | None, method: DeliveryMethod | None = DeliveryMethod.GUI) -> str:
    """How a typed delivery was checked, as words after "delivered via gui" (or tmux)."""
    if verified is None:
        return ""
    where = "in the pane" if method is DeliveryMethod.TMUX else "on screen"
    if verified:
        return f", verified {where}"
    return ", unverified (verify is off for this agent)"
