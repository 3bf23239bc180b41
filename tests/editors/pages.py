"""Chat panes whose input is a real web editor, in Chromium app windows.

``install.sh`` installs the editors' npm packages at pinned versions and bundles one script
per editor (``tests/run.sh`` exports the bundles' folder as ``CELLPHONE_TEST_EDITORS``). Each
page looks like an agent's chat pane and speaks the events of
:mod:`messaging.screen.pageserver`; the ``message`` it posts holds what the editor's own text
API gave at Enter (Monaco ``getValue()``, CodeMirror ``state.doc.toString()``, ProseMirror
``doc.textBetween(0, size, "\\n", "\\n")``, Tiptap ``getText({blockSeparator: "\\n"})``,
Lexical ``root.getTextContent()``). A busy pane's Enter does nothing: the agent is working.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from messaging.screen.apps import ChromiumPane, ChromiumPanes
from messaging.screen.pageserver import BUSY_HINT, SEND_HINT, SHOWN_CHARS, ChatServer

EDITORS_VARIABLE = "CELLPHONE_TEST_EDITORS"
EDITORS = ("monaco", "prosemirror", "tiptap", "lexical", "codemirror")
VARIANTS = {  # a page of another editor's script
    "lexical-plain": ("lexical", "plain"),
    "codemirror-late-ring": ("codemirror", "late-ring"),
}
NAMES = {
    "monaco": "Monaco 0.57",
    "prosemirror": "ProseMirror 1.44",
    "tiptap": "Tiptap 3.35",
    "lexical": "Lexical 0.52 rich text",
    "lexical-plain": "Lexical 0.52 plain text",
    "codemirror": "CodeMirror 6",
    "codemirror-late-ring": "CodeMirror 6, focus ring drawn late",
}
TEMPLATE = Path(__file__).with_name("page.html")


def editors_folder() -> Path:
    """Where install.sh put the bundles; a clear error (never a skip) when it was not run."""
    value = os.environ.get(EDITORS_VARIABLE)
    if not value or not Path(value, ".complete").exists():
        raise RuntimeError(
            f"the editors' pages are not built ({EDITORS_VARIABLE}={value!r}): run the tests "
            "with `bash tests/run.sh`, or set it to what `bash tests/editors/install.sh` prints"
        )
    return Path(value)


@dataclass(frozen=True)
class EditorPane:
    """A chat pane whose input is ``editor``; the middle of the input at (``x``, ``y``)."""

    agent_id: str
    editor: str
    x: int
    y: int
    busy: bool = False
    # every n-th Enter does nothing (the agent is at work now and then): 2, every other one
    ignores_every: int = 0
    width: int = 640
    height: int = 420

    def __post_init__(self) -> None:
        if self.editor not in NAMES:
            raise ValueError(f"unknown editor {self.editor!r}; one of {', '.join(NAMES)}")

    @property
    def chromium(self) -> ChromiumPane:
        state = "busy" if self.busy else "chat"
        return ChromiumPane(
            self.agent_id,
            self.x,
            self.y,
            self.width,
            self.height,
            title=f"{self.agent_id} — {self.editor} {state}",
            kind="ignores-enter" if self.busy else "textarea",
        )


def render_editor_page(
    pane_id: str, title: str, editor: str, busy: bool, ignores_every: int = 0
) -> str:
    """The chat page of one pane whose input is ``editor``."""
    script, variant = VARIANTS.get(editor, (editor, ""))
    config = json.dumps(
        {
            "pane": pane_id,
            "editor": editor,
            "sends": not busy,
            "ignores_every": ignores_every,
            "shown": SHOWN_CHARS,
        }
    )
    page = TEMPLATE.read_text(encoding="utf-8")
    stylesheet = '<link rel="stylesheet" href="/assets/monaco.css">' if script == "monaco" else ""
    for marker, value in (
        ("__TITLE__", html.escape(title)),
        ("__STYLESHEET__", stylesheet),
        ("__EDITOR__", html.escape(NAMES[editor])),
        ("__BODY_CLASS__", "busy" if busy else ""),
        ("__STATE__", "● working…" if busy else "● ready"),
        ("__GREETING__", html.escape(f"{title}: ready for your message.")),
        ("__PLACEHOLDER__", html.escape(f"Message {title}…", quote=True)),
        ("__VARIANT__", variant),
        ("__HINT__", BUSY_HINT if busy else SEND_HINT),
        ("__CONFIG__", config.replace("</", "<\\/")),
        ("__SCRIPT__", f"{script}.js"),
    ):
        page = page.replace(marker, value)
    return page


class EditorServer(ChatServer):
    """A :class:`ChatServer` serving each pane's editor page and the bundles beside them."""

    def __init__(self, record: Path, bundles: Path, panes: Mapping[str, EditorPane]) -> None:
        super().__init__(record, assets=bundles)
        self.panes = dict(panes)

    def add_page(self, pane_id: str, title: str, kind: str) -> str:
        pane = self.panes[pane_id]
        page = render_editor_page(pane_id, title, pane.editor, pane.busy, pane.ignores_every)
        return self.add_html(pane_id, page)


class EditorPanes(ChromiumPanes):
    """Chromium app windows showing editor chat pages, started one after another; read what
    they received as from :class:`ChromiumPanes`."""

    def __init__(
        self, panes: Sequence[EditorPane], display: str, workdir: Path, bundles: Path
    ) -> None:
        super().__init__([pane.chromium for pane in panes], display, workdir)
        self.editor_panes = {pane.agent_id: pane for pane in panes}
        self.server = EditorServer(self.record, bundles, self.editor_panes)
