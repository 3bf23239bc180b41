"""Text the desk left in an agent's input (pasted, not submitted), kept in the home so the
next delivery clears it, whichever process makes it, instead of taking it for a draft."""

from __future__ import annotations

import logging
from pathlib import Path

from coordinates.file import write_atomic

log = logging.getLogger(__name__)


class Leftovers:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, agent_id: str) -> Path:
        return self.folder / f"{agent_id}.leftover"  # agent ids are checked: never a path

    def remember(self, agent_id: str, text: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self._path(agent_id), text)
        except OSError as exc:
            log.warning("cannot note the text left in the input of %s: %s", agent_id, exc)

    def recall(self, agent_id: str) -> str | None:
        try:
            return self._path(agent_id).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def forget(self, agent_id: str) -> None:
        try:
            self._path(agent_id).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot drop the note of text left for %s: %s", agent_id, exc)
