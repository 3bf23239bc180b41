"""Terminal chat panes: ``xfce4-terminal`` or ``xterm`` windows running the line reader of
:mod:`messaging.screen.linereader`, or any command (a real agent CLI), as agents run.

xfce4-terminal pastes the clipboard on ``ctrl+shift+v`` (``ctrl+v`` reaches the program as
^V), xterm the primary selection on ``shift+insert``; both with bracketed paste, so a
multi-line paste is one message. xfce4-terminal's "unsafe paste" dialog, which it shows for
any pasted text with a new line and which would take the Enter meant for the program, is
turned off in the terminal's own configuration, as a user of an agent CLI turns it off,
unless a pane asks for it (``paste_dialog``: the terminal as installed).

A command runs under ``script``, which copies what it prints to a transcript: the pane is
ready once the transcript shows the pane's ``ready`` text. New lines are printed first, so
the command starts on the last row, as in a terminal already in use. The chat point is on
the prompt line: the last row, or ``prompt_row`` rows above it (a CLI's status lines
below its input).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

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

TerminalKind = Literal["xfce4-terminal", "xterm"]
TERMINAL: TerminalKind = "xfce4-terminal"
XTERM: TerminalKind = "xterm"
NO_PASTE_DIALOG = "MiscShowUnsafePasteDialog=FALSE\n"
TERMINALRC = """[Configuration]
MiscConfirmClose=FALSE
MiscMenubarDefault=FALSE
MiscToolbarDefault=FALSE
MiscCursorBlinks=FALSE
ScrollingBar=TERMINAL_SCROLLBAR_NONE
FontName=DejaVu Sans Mono 12
ColorForeground=#cccccc
ColorBackground=#1e1e1e
"""
XTERM_OPTIONS = (
    "-fa", "DejaVu Sans Mono", "-fs", "12", "-bg", "#1e1e1e", "-fg", "#cccccc",
    "+sb", "-bw", "0", "-xrm", "XTerm*allowTitleOps: false",
)  # fmt: skip
CELL = (10, 19)  # DejaVu Sans Mono 12 in pixels, for the first guess of where to start
NOT_RECEIVED = ("ready", "draft")
STOP_GRACE_S = 3.0
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|.)")


def terminal_available(terminal: str = TERMINAL) -> bool:
    return shutil.which(terminal) is not None


@dataclass(frozen=True)
class TerminalPane:
    """One terminal window: the middle of its prompt line should be at (``x``, ``y``)."""

    agent_id: str
    x: int
    y: int
    columns: int = 80
    rows: int = 16
    title: str | None = None  # default "<agent_id> — terminal"
    command: str | None = None  # a shell line to run (an agent CLI); None: the line reader
    ready: str = ""  # what the command prints once it waits for input
    prompt_row: int = 0  # how many rows above the last the prompt line is
    terminal: TerminalKind = TERMINAL
    paste_dialog: bool = False  # xfce4-terminal as installed: it confirms multi-line pastes

    @property
    def window_title(self) -> str:
        """The title given, else "<agent_id> — terminal" (in ASCII for xterm, which sets a
        title from its command line in its own encoding)."""
        dash = "-" if self.terminal == XTERM else "—"
        return self.title or f"{self.agent_id} {dash} terminal"


class TerminalPanes(AppWindows):
    """Terminal windows running the line reader, one per pane, on ``display``; their
    configuration, logs and the record of what was submitted go to ``workdir``."""

    def __init__(
        self,
        panes: Sequence[TerminalPane],
        display: str,
        workdir: Path,
        *,
        terminal: str | None = None,
        timeout: float = START_TIMEOUT_S,
    ) -> None:
        super().__init__(panes, display, workdir, timeout)
        self.panes = tuple(panes)
        self.terminal = terminal  # a program to run instead of each pane's terminal
        self.record = workdir / "received.jsonl"

    def start(self) -> None:
        wanted = {self.terminal} if self.terminal else {pane.terminal for pane in self.panes}
        for terminal in wanted:
            if not terminal_available(terminal):
                raise ChatAppError(
                    f"{terminal} is not installed; install the Debian package: "
                    f"apt-get install {terminal}"
                )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.record.touch()
        try:
            for index, pane in enumerate(self.panes):
                self._start_pane(index, pane)
        except BaseException:
            self.stop()
            raise

    def transcript(self, agent_id: str) -> str:
        """What the pane's command printed so far, without escape sequences."""
        index = next(i for i, p in enumerate(self.panes) if p.agent_id == agent_id)
        path = self._transcript(index, self.panes[index])
        raw = path.read_bytes().decode("utf-8", "replace") if path.exists() else ""
        return _ESCAPES.sub("", raw)

    def _transcript(self, index: int, pane: TerminalPane) -> Path:
        return self.workdir / f"{index}-{slug(pane.agent_id)}.transcript"

    def _environment(self, index: int, pane: TerminalPane) -> dict[str, str]:
        """The terminal's own configuration (XDG_CONFIG_HOME), and the project importable."""
        config = self.workdir / f"config-{index}"
        rc = TERMINALRC + ("" if pane.paste_dialog else NO_PASTE_DIALOG)
        (config / "xfce4" / "terminal").mkdir(parents=True, exist_ok=True)
        (config / "xfce4" / "terminal" / "terminalrc").write_text(rc, encoding="utf-8")
        path = [str(project_root()), *filter(None, [os.environ.get("PYTHONPATH")])]
        return {
            **os.environ,
            "XDG_CONFIG_HOME": str(config),
            "NO_AT_BRIDGE": "1",
            "PYTHONPATH": os.pathsep.join(path),
            "SHELL": "/bin/sh",
        }

    def _program(self, index: int, pane: TerminalPane) -> list[str]:
        """What the terminal runs: the line reader, or the pane's command under ``script``
        (started on the last row)."""
        if pane.command is None:
            reader = (sys.executable, "-m", "messaging.screen.linereader")
            return [*reader, str(self.record), pane.agent_id]
        line = f"printf '%{pane.rows}s' '' | tr ' ' '\\n'; {pane.command}"
        script = ["script", "-qfec", line, str(self._transcript(index, pane))]
        pidfile = shlex.quote(str(self._pidfile(index, pane)))
        return ["sh", "-c", f"echo $$ > {pidfile}; exec {shlex.join(script)}"]

    def _pidfile(self, index: int, pane: TerminalPane) -> Path:
        return self.workdir / f"{index}-{slug(pane.agent_id)}.pid"

    def stop(self) -> None:
        """Stop every terminal, and what its command started: a terminal runs it in a
        session of its own, and some CLIs outlive their terminal (Gemini CLI ignores the
        hang-up, Codex CLI leaves an app server)."""
        started = []
        for index, pane in enumerate(self.panes):
            with contextlib.suppress(OSError, ValueError):
                pid = int(self._pidfile(index, pane).read_text().strip())
                started.extend([pid, *descendants(pid)])
        super().stop()
        stop_processes(started)

    def _argv(self, index: int, pane: TerminalPane, x: int, y: int) -> list[str]:
        program = self._program(index, pane)
        if pane.terminal == XTERM:
            geometry = f"{pane.columns}x{pane.rows}+{x}+{y}"
            title = pane.window_title
            terminal = self.terminal or XTERM
            return [
                terminal,
                *XTERM_OPTIONS,
                "-geometry",
                geometry,
                "-title",
                title,
                "-e",
                *program,
            ]
        return [
            self.terminal or TERMINAL,
            "--disable-server",
            "--hide-menubar",
            "--hide-toolbar",
            "--hide-scrollbar",
            f"--geometry={pane.columns}x{pane.rows}+{x}+{y}",
            f"--title={pane.window_title}",
            "--dynamic-title-mode=none",
            "-x",
            *program,
        ]

    def _start_pane(self, index: int, pane: TerminalPane) -> None:
        started = time.monotonic()
        deadline = started + self.timeout
        x = max(pane.x - pane.columns * CELL[0] // 2, 0)
        y = max(pane.y - pane.rows * CELL[1], 0)
        log = self.workdir / f"{index}-{slug(pane.agent_id)}.log"
        env = self._environment(index, pane)
        window = self._launch(pane.agent_id, self._argv(index, pane, x, y), env, log)
        if pane.command is None:
            ready = self._until(window, "prompt", lambda: self._ready(pane.agent_id), deadline)
            rows = int(ready["rows"])
        else:
            shows = lambda: pane.ready in self.transcript(pane.agent_id) or None  # noqa: E731
            self._until(window, f"{pane.ready!r} shown", shows, deadline)
            rows = pane.rows
        self._map(window, pane.window_title, deadline)
        window.input_area = lambda client: prompt_line(client, rows, pane.prompt_row)
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


def prompt_line(client: Rect, rows: int, above_last: int = 0) -> Rect:
    """The terminal's row ``above_last`` rows above its last (the prompt's), from its
    window and number of rows."""
    cell = client.height // rows
    top = (client.height - rows * cell) // 2
    row = rows - 1 - above_last
    return Rect(client.x, client.y + top + row * cell, client.width, cell)


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, their children and so on."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_processes(pids: list[int]) -> None:
    """SIGTERM, then after a grace period SIGKILL, whichever of ``pids`` still run."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid in pids if _running(pid)]
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + STOP_GRACE_S
        while any(_running(pid) for pid in alive) and time.monotonic() < deadline:
            time.sleep(0.02)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _at_least(items: list[Received], count: int) -> list[Received] | None:
    return items if len(items) >= count else None
