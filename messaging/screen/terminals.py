"""Terminal chat panes: ``xfce4-terminal`` windows running the line reader of
:mod:`messaging.screen.linereader`, as agents' terminal CLIs run.

The terminal pastes the clipboard on ``ctrl+shift+v`` (``ctrl+v`` reaches the program as
^V) with bracketed paste, so a multi-line paste is one message. Its "unsafe paste" dialog,
which xfce4-terminal shows for any pasted text with a new line and which would take the
Enter meant for the reader, is turned off in the terminal's own configuration, as a user of
an agent CLI turns it off. The chat point is on the terminal's last row: the prompt line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from messaging.screen.appwindows import (
    START_TIMEOUT_S,
    AppWindows,
    ChatAppError,
    poll,
    project_root,
    slug,
)
from messaging.screen.look import Rect
from messaging.screen.standin import Received, texts_of

TERMINAL = "xfce4-terminal"
TERMINALRC = """[Configuration]
MiscShowUnsafePasteDialog=FALSE
MiscConfirmClose=FALSE
MiscMenubarDefault=FALSE
MiscToolbarDefault=FALSE
MiscCursorBlinks=FALSE
ScrollingBar=TERMINAL_SCROLLBAR_NONE
FontName=DejaVu Sans Mono 12
ColorForeground=#cccccc
ColorBackground=#1e1e1e
"""
CELL = (10, 19)  # DejaVu Sans Mono 12 in pixels, for the first guess of where to start
NOT_RECEIVED = ("ready", "draft")


def terminal_available() -> bool:
    return shutil.which(TERMINAL) is not None


@dataclass(frozen=True)
class TerminalPane:
    """One terminal window: the middle of its prompt line should be at (``x``, ``y``)."""

    agent_id: str
    x: int
    y: int
    columns: int = 80
    rows: int = 16
    title: str | None = None  # default "<agent_id> — terminal"

    @property
    def window_title(self) -> str:
        return self.title or f"{self.agent_id} — terminal"


class TerminalPanes(AppWindows):
    """Terminal windows running the line reader, one per pane, on ``display``; their
    configuration, logs and the record of what was submitted go to ``workdir``."""

    def __init__(
        self,
        panes: Sequence[TerminalPane],
        display: str,
        workdir: Path,
        *,
        terminal: str = TERMINAL,
        timeout: float = START_TIMEOUT_S,
    ) -> None:
        super().__init__(panes, display, workdir, timeout)
        self.panes = tuple(panes)
        self.terminal = terminal
        self.record = workdir / "received.jsonl"

    def start(self) -> None:
        terminal = shutil.which(self.terminal)
        if terminal is None:
            raise ChatAppError(
                f"{self.terminal} is not installed; install the Debian package: "
                "apt-get install xfce4-terminal"
            )
        env = self._environment()
        self.record.touch()
        try:
            for index, pane in enumerate(self.panes):
                self._start_pane(terminal, index, pane, env)
        except BaseException:
            self.stop()
            raise

    def _environment(self) -> dict[str, str]:
        """The terminals' own configuration (XDG_CONFIG_HOME), and the project importable."""
        config = self.workdir / "config"
        (config / "xfce4" / "terminal").mkdir(parents=True, exist_ok=True)
        (config / "xfce4" / "terminal" / "terminalrc").write_text(TERMINALRC, encoding="utf-8")
        path = [str(project_root()), *filter(None, [os.environ.get("PYTHONPATH")])]
        return {
            **os.environ,
            "XDG_CONFIG_HOME": str(config),
            "NO_AT_BRIDGE": "1",
            "PYTHONPATH": os.pathsep.join(path),
        }

    def _start_pane(
        self, terminal: str, index: int, pane: TerminalPane, env: dict[str, str]
    ) -> None:
        started = time.monotonic()
        deadline = started + self.timeout
        x = max(pane.x - pane.columns * CELL[0] // 2, 0)
        y = max(pane.y - pane.rows * CELL[1], 0)
        reader = (sys.executable, "-m", "messaging.screen.linereader")
        argv = [
            terminal,
            "--disable-server",
            "--hide-menubar",
            "--hide-toolbar",
            "--hide-scrollbar",
            f"--geometry={pane.columns}x{pane.rows}+{x}+{y}",
            f"--title={pane.window_title}",
            "--dynamic-title-mode=none",
            "-x",
            *(*reader, str(self.record), pane.agent_id),
        ]
        log = self.workdir / f"{index}-{slug(pane.agent_id)}.log"
        window = self._launch(pane.agent_id, argv, env, log)
        ready = self._until(window, "prompt", lambda: self._ready(pane.agent_id), deadline)
        self._map(window, pane.window_title, deadline)
        window.input_area = lambda client: prompt_line(client, int(ready["rows"]))
        self._place(window, pane.x, pane.y)
        self.start_seconds[pane.agent_id] = time.monotonic() - started

    def _ready(self, agent_id: str) -> dict[str, Any] | None:
        return next(
            (r for r in self._records() if r["agent_id"] == agent_id and r["kind"] == "ready"),
            None,
        )

    def _records(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    # -- what the line readers received -------------------------------------------------

    def received(self) -> list[Received]:
        return [
            Received(r["agent_id"], r["text"], r["at"], r["kind"])
            for r in self._records()
            if r["kind"] not in NOT_RECEIVED
        ]

    def texts(self, agent_id: str) -> list[str]:
        return texts_of(self.received(), agent_id)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Everything received once at least ``count`` submissions are in (bounded wait)."""
        got = poll(lambda: _at_least(self.received(), count), timeout)
        if got is None:
            raise TimeoutError(
                f"terminals received {len(self.received())} of {count} texts in {timeout}s"
            )
        return got

    def clear(self) -> None:
        """Forget what was received (the ready records stay: they tell the panes' size)."""
        kept = [r for r in self._records() if r["kind"] == "ready"]
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
        self.record.write_text(lines, encoding="utf-8")

    def draft(self, agent_id: str) -> str | None:
        """The pane's input after its latest paste (None before any)."""
        drafts = [
            r["text"] for r in self._records() if (r["agent_id"], r["kind"]) == (agent_id, "draft")
        ]
        return drafts[-1] if drafts else None

    def wait_for_draft(self, agent_id: str, text: str, timeout: float = 5.0) -> None:
        """Until a paste leaves the pane's input holding exactly ``text`` (bounded)."""
        if poll(lambda: self.draft(agent_id) == text or None, timeout) is None:
            raise TimeoutError(
                f"the input of {agent_id} holds {self.draft(agent_id)!r:.200}, not {text!r:.200}"
                f" after {timeout}s"
            )


def prompt_line(client: Rect, rows: int) -> Rect:
    """The terminal's last row (the prompt's), from its window and number of rows."""
    cell = client.height // rows
    top = (client.height - rows * cell) // 2
    return Rect(client.x, client.y + top + (rows - 1) * cell, client.width, cell)


def _at_least(items: list[Received], count: int) -> list[Received] | None:
    return items if len(items) >= count else None
