"""What the tmux lane learns of each agent's pane, kept in the home so that every process
(the bot, a `cellphone send`) knows it: text the desk left in the input (pasted, not
submitted), cleared by the next delivery instead of being taken for a draft; and that the
CLI took an Enter for a new line (Gemini CLI), so its later messages wait a little longer
before the submit keys."""

from __future__ import annotations

import logging
from pathlib import Path

from coordinates.file import write_atomic

log = logging.getLogger(__name__)


class PaneNotes:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, agent_id: str, kind: str) -> Path:
        return self.folder / f"{agent_id}.{kind}"  # agent ids are checked: never a path

    def remember_leftover(self, agent_id: str, text: str) -> None:
        self._write(agent_id, "leftover", text)

    def leftover(self, agent_id: str) -> str | None:
        try:
            return self._path(agent_id, "leftover").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def forget_leftover(self, agent_id: str) -> None:
        try:
            self._path(agent_id, "leftover").unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot drop the note of text left for %s: %s", agent_id, exc)

    def note_slow_enter(self, agent_id: str) -> None:
        self._write(agent_id, "slow-enter", "the CLI took an Enter for a new line\n")

    def slow_enter(self, agent_id: str) -> bool:
        return self._path(agent_id, "slow-enter").exists()

    def _write(self, agent_id: str, kind: str, text: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self._path(agent_id, kind), text)
        except OSError as exc:
            log.warning("cannot keep the %s note of %s: %s", kind, agent_id, exc)
