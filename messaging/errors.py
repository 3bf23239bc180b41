"""Errors of the messaging domain; each message names the bad value and what to do."""

from __future__ import annotations


class MessagingError(Exception):
    """Base of every error the messaging domain raises on purpose."""


def shown(value: str, most: int = 80) -> str:
    """``value`` quoted for an error message, cut short when long."""
    return repr(value if len(value) <= most else value[:most] + "…")


class EmptyMessageError(MessagingError):
    def __init__(self) -> None:
        super().__init__("message text is empty; write something to send")


class MessageTooLongError(MessagingError):
    def __init__(self, length: int, maximum: int) -> None:
        super().__init__(
            f"message is {length:,} characters; the maximum is {maximum:,} "
            "(setting messaging.max_message_length); shorten it or attach it as a file"
        )
        self.length = length
        self.maximum = maximum


class ControlCharacterError(MessagingError):
    def __init__(self, char: str, position: int) -> None:
        super().__init__(
            f"message holds the control character {char!r} at position {position}; "
            "remove it (tabs and line breaks are fine)"
        )


class InvalidPriorityError(MessagingError):
    def __init__(self, value: object, allowed: list[str]) -> None:
        super().__init__(f"unknown priority {value!r}; use one of: {', '.join(allowed)}")


class InvalidMessageTypeError(MessagingError):
    def __init__(self, value: object, allowed: list[str]) -> None:
        super().__init__(f"unknown message type {value!r}; use one of: {', '.join(allowed)}")


class NoRecipientsError(MessagingError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"no recipients: {detail}")


class UnknownMessageError(MessagingError):
    def __init__(self, message_id: str) -> None:
        super().__init__(
            f"no message with id {shown(message_id)}; `cellphone history` lists recent ids"
        )


class IdempotencyConflictError(MessagingError):
    def __init__(self, key: str, message_id: str) -> None:
        super().__init__(
            f"idempotency key {key!r} was already used by message {message_id} with other "
            "recipients or text; use a new key for a new message"
        )


class StoreError(MessagingError):
    """The database cannot be opened or is from a newer version of this program."""
