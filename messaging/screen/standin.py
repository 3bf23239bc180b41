"""Stand-in agent chat panes for ``cellphone demo``, the tests and the benchmark.

Small Tk windows placed so that each agent's point lies in the middle of an input box.
Enter submits (the text is appended as one JSON line to the record file, shown in the
window's history and the box cleared), Shift+Enter inserts a newline, Ctrl+A selects all,
Ctrl+V pastes over the selection, Ctrl+N starts a new chat (clears the box, recorded), like
a chat app's input.

Run as a program (``python -m messaging.screen.standin SPEC.json``) it prints ``ready`` once every
window is mapped and placed (under a window manager too, whose frame would otherwise push
each window down by its title bar); :class:`ChatWindows` runs it in a subprocess.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

READY = "ready"
START_TIMEOUT_S = 15.0
TITLE_HEIGHT = 24  # a label showing the window title
INPUT_HEIGHT = 90  # the input box at the bottom; the agent's point is its centre
SHOWN_CHARS = 400  # of each received text, in the history above the input
FONT = ("DejaVu Sans", 11)


@dataclass(frozen=True)
class Pane:
    """One window: ``point`` is where the agent's chat input is expected on screen."""

    agent_id: str
    x: int
    y: int
    width: int = 420
    height: int = 300
    title: str | None = None  # default: "<agent_id> — chat"

    @property
    def window_title(self) -> str:
        return self.title or f"{self.agent_id} — chat"

    def origin(self) -> tuple[int, int]:
        """Top-left corner so that the point falls in the middle of the input box."""
        return self.x - self.width // 2, self.y - (self.height - INPUT_HEIGHT // 2)


@dataclass(frozen=True)
class Received:
    agent_id: str
    text: str
    at: float
    kind: str = "message"  # or "new-chat"


def texts_of(received: Iterable[Received], agent_id: str) -> list[str]:
    """The texts submitted to ``agent_id``'s input, in order."""
    return [r.text for r in received if r.agent_id == agent_id and r.kind == "message"]


class StandInError(RuntimeError):
    """The stand-in windows could not be started."""


class ChatWindows:
    """The windows in one subprocess on ``display``; read what they received."""

    def __init__(self, panes: Sequence[Pane], display: str, workdir: Path) -> None:
        self.panes = tuple(panes)
        self.display = display
        self.workdir = workdir
        self.record = workdir / "received.jsonl"
        self.log = workdir / "standin.log"
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> ChatWindows:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        spec = self.workdir / "panes.json"
        spec.write_text(
            json.dumps({"record": str(self.record), "panes": [asdict(p) for p in self.panes]}),
            encoding="utf-8",
        )
        root = Path(__file__).resolve().parents[1]
        with self.log.open("w") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "messaging.screen.standin", str(spec)],
                cwd=root,
                env={**os.environ, "DISPLAY": self.display, "PYTHONPATH": str(root)},
                stdout=subprocess.PIPE,
                stderr=log_file,
                text=True,
            )
        line = _read_line(self._process, timeout)
        if line.strip() != READY:
            self.stop()
            line = line or self.log.read_text(errors="replace")[-2000:]
            raise StandInError(f"stand-in chat windows did not start: {line.strip()!r}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()

    def received(self) -> list[Received]:
        if not self.record.exists():
            return []
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return [Received(**json.loads(line)) for line in lines if line.strip()]

    def texts(self, agent_id: str) -> list[str]:
        return texts_of(self.received(), agent_id)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Everything received once at least ``count`` submissions are in (bounded wait)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.received()
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"windows received {len(got)} of {count} texts in {timeout}s")
            time.sleep(0.01)

    def clear(self) -> None:
        self.record.write_text("", encoding="utf-8")


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first line the process prints; empty when it dies or hangs."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if selector.select(timeout):
            return process.stdout.readline()
    return ""


# -- the program ------------------------------------------------------------------------


def run(spec_path: Path) -> None:
    import tkinter as tk

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    record = open(spec["record"], "a", encoding="utf-8")  # noqa: SIM115 - open for the loop
    root = tk.Tk()
    root.withdraw()
    panes = [Pane(**p) for p in spec["panes"]]
    windows = [_window(root, pane, record) for pane in panes]
    deadline = time.monotonic() + START_TIMEOUT_S
    _wait(root, lambda: all(window.winfo_viewable() for window in windows), deadline)
    _place_clients(root, [(w, p.origin()) for w, p in zip(windows, panes, strict=True)], deadline)
    print(READY, flush=True)
    root.mainloop()


def _place_clients(root: Any, placed: list[tuple[Any, tuple[int, int]]], deadline: float) -> None:
    """A window manager puts its frame where the window asked to be and the window inside
    it (openbox: 1 pixel right, 20 lower): move each by that much, so the window itself,
    and the agent's point in its input box, are where the pane says."""
    root.update()
    for window, (x, y) in placed:
        dx, dy = x - window.winfo_rootx(), y - window.winfo_rooty()
        if dx or dy:
            window.geometry(f"+{x + dx}+{y + dy}")
    _wait(
        root,
        lambda: all((w.winfo_rootx(), w.winfo_rooty()) == origin for w, origin in placed),
        deadline,
    )


def _wait(root: Any, done: Callable[[], bool], deadline: float) -> None:
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("the windows were not mapped and placed in time")
        root.update()
        time.sleep(0.005)
    root.update()


def _window(root: Any, pane: Pane, record: Any) -> Any:
    import tkinter as tk

    window = tk.Toplevel(root)
    window.title(pane.window_title)
    x, y = pane.origin()
    window.geometry(f"{pane.width}x{pane.height}+{x}+{y}")
    tk.Label(window, text=pane.window_title, anchor="w", bg="#20232a", fg="#e8e8e8").place(
        x=0, y=0, width=pane.width, height=TITLE_HEIGHT
    )
    history = tk.Text(window, wrap="word", font=FONT, bg="#f3f3f3", state="disabled")
    history.place(
        x=0, y=TITLE_HEIGHT, width=pane.width, height=pane.height - TITLE_HEIGHT - INPUT_HEIGHT
    )
    box = tk.Text(window, wrap="word", font=FONT, bg="#ffffff", undo=False)
    box.place(x=0, y=pane.height - INPUT_HEIGHT, width=pane.width, height=INPUT_HEIGHT)

    def note(text: str, kind: str) -> None:
        line = {"agent_id": pane.agent_id, "text": text, "at": time.time(), "kind": kind}
        record.write(json.dumps(line, ensure_ascii=False) + "\n")
        record.flush()

    def new_chat(_event: Any) -> str:
        box.delete("1.0", "end")
        note("", "new-chat")
        return "break"

    def submit(_event: Any) -> str:
        text = box.get("1.0", "end-1c")
        note(text, "message")
        box.delete("1.0", "end")
        history.configure(state="normal")
        history.insert("end", text[:SHOWN_CHARS] + "\n\n")
        history.see("end")
        history.configure(state="disabled")
        return "break"

    def newline(_event: Any) -> str:
        box.insert("insert", "\n")
        return "break"

    def select_all(_event: Any) -> str:
        box.tag_add("sel", "1.0", "end-1c")
        return "break"

    def paste(_event: Any) -> str:
        # A chat input replaces the selection with the pasted text.
        if box.tag_ranges("sel"):
            box.delete("sel.first", "sel.last")
        box.insert("insert", box.clipboard_get(type="UTF8_STRING"))
        return "break"

    box.bind("<Return>", submit)
    box.bind("<KP_Enter>", submit)
    box.bind("<Shift-Return>", newline)
    box.bind("<Control-a>", select_all)
    box.bind("<Control-n>", new_chat)
    box.bind("<<Paste>>", paste)
    # a click from XTEST (press and release at once) would count as a drag over the empty
    # line and select it; a chat input selects nothing on a plain click
    box.bind("<B1-Motion>", lambda _event: "break")
    return window


if __name__ == "__main__":
    run(Path(sys.argv[1]))
