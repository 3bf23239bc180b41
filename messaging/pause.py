"""The desk's pause, kept as a file of the home (``var/desk.paused``, holding the reason).

A pause outlives the process that made it (a fail-safe during ``cellphone send`` still holds
for the next command) and any process can make or lift it: the bot's ``/pause`` and
``/resume``, ``cellphone pause`` and ``cellphone resume``. A running desk notices within
``messaging.poll_interval_s``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from config import Home
from coordinates.file import write_atomic
from messaging.errors import MessagingError, shown

log = logging.getLogger(__name__)

FILE_NAME = "desk.paused"
UNSTATED_REASON = "paused (no reason given)"
WAIT_FILE_NAME = "desk.waiting"
MAX_REASON_LENGTH = 200


class InvalidReasonError(MessagingError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            f"pause reason {shown(reason)} is not allowed; use one line of 1 to "
            f"{MAX_REASON_LENGTH} printable characters"
        )


def checked_reason(reason: str) -> str:
    """A pause reason an operator gave: one line that ``status`` can show as it is."""
    if not (0 < len(reason) <= MAX_REASON_LENGTH and reason.isprintable() and reason.strip()):
        raise InvalidReasonError(reason)
    return reason.strip()


class PauseFlag:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, home: Home) -> PauseFlag:
        return cls(home.var_dir / FILE_NAME)

    def reason(self) -> str | None:
        """Why the desk is paused, or None when it is not."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read the pause file %s: %s", self.path, exc)
            return None
        return text or UNSTATED_REASON

    def set(self, reason: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, reason.strip() + "\n")

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class WaitNote(PauseFlag):
    """What the screen worker waits on right now (the operator's hands), kept as
    ``var/desk.waiting`` so that ``status`` in any process can show it."""

    @classmethod
    def of(cls, home: Home) -> WaitNote:
        return cls(home.var_dir / WAIT_FILE_NAME)
