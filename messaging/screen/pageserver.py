"""The chat pages' web server: a thread serving each pane's page on 127.0.0.1 and recording
what the pages send back.

A page (``pages/chat.html``, inline CSS and JS only, a Content-Security-Policy that allows
nothing but this server) posts JSON events ``{pane, kind, seq, ...}`` to ``/event``:

- ``message``: the text its input submitted (Enter) — a :class:`Received`, kept in memory
  and appended as one JSON line to the record file;
- ``draft``: the input's current text after each change, so a caller can wait for a paste
  to land before pressing Enter;
- ``ready``: after loading (and on resize), where its chat input is in the viewport.

A server given an ``assets`` folder also serves the files under it at ``/assets/<path>``
(the scripts and styles of pages added whole with :meth:`ChatServer.add_html`).
"""

from __future__ import annotations

import html
import json
import logging
import mimetypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, get_args
from urllib.parse import quote, unquote

from messaging.screen.look import Rect
from messaging.screen.standin import Received, texts_of

log = logging.getLogger(__name__)

# "slow": a textarea of a page busy with its own work, which draws the focus 0.3 s after it
# comes and shows a paste 0.25 s after the paste keys
PageKind = Literal["textarea", "contenteditable", "ignores-enter", "slow"]
PAGE_KINDS: tuple[str, ...] = get_args(PageKind)
SHOWN_CHARS = 400  # of each submitted text, in the page's history
MAX_BODY = 16 * 1024 * 1024

TEXTAREA = '<textarea id="input" spellcheck="false" placeholder="{}"></textarea>'
EDITABLE = (
    '<div id="input" contenteditable="true" role="textbox" aria-multiline="true" '
    'spellcheck="false" data-placeholder="{}"></div>'
)
SEND_HINT = "Enter to send · Shift+Enter for a new line"
BUSY_HINT = "The agent is working: Enter does nothing until it is done"


@dataclass(frozen=True)
class PageLayout:
    """Where a page's chat input is in its viewport, in CSS pixels, as the page said."""

    left: float
    top: float
    width: float
    height: float
    scale: float = 1.0

    def on_screen(self, viewport_x: int, viewport_y: int) -> Rect:
        """The input's rectangle on screen for a viewport whose origin is given."""
        left, top = round(self.left * self.scale), round(self.top * self.scale)
        right = round((self.left + self.width) * self.scale)
        bottom = round((self.top + self.height) * self.scale)
        return Rect(viewport_x + left, viewport_y + top, right - left, bottom - top)


def render_page(pane_id: str, title: str, kind: str) -> str:
    """The chat page of one pane."""
    if kind not in PAGE_KINDS:
        raise ValueError(f"unknown page kind {kind!r}; one of {', '.join(PAGE_KINDS)}")
    busy, slow = kind == "ignores-enter", kind == "slow"
    placeholder = html.escape(f"Message {title}…")
    field = EDITABLE if kind == "contenteditable" else TEXTAREA
    config = json.dumps({"pane": pane_id, "sends": not busy, "shown": SHOWN_CHARS, "slow": slow})
    template = resources.files("messaging.screen").joinpath("pages/chat.html").read_text("utf-8")
    for marker, value in (
        ("__TITLE__", html.escape(title)),
        ("__BODY_CLASS__", "busy" if busy else "slow" if slow else ""),
        ("__STATE__", "● working…" if busy else "● ready"),
        ("__GREETING__", html.escape(f"{title}: ready for your message.")),
        ("__INPUT__", field.format(placeholder)),
        ("__HINT__", BUSY_HINT if busy else SEND_HINT),
        ("__CONFIG__", config.replace("</", "<\\/")),
    ):
        template = template.replace(marker, value)
    return template


class ChatServer:
    """Serves ``/pane/<id>`` for each added pane; :meth:`received` and friends read what
    came back. Start with :meth:`start` or ``with``."""

    def __init__(self, record: Path, assets: Path | None = None) -> None:
        self.record = record
        self.assets = assets
        self._pages: dict[str, str] = {}
        self._received: list[Received] = []
        self._drafts: dict[str, tuple[int, str]] = {}
        self._layouts: dict[str, PageLayout] = {}
        self._changed = threading.Condition()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ChatServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError("the chat server is not started")
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_page(self, pane_id: str, title: str, kind: str) -> str:
        """Serve a page for ``pane_id``; its URL."""
        return self.add_html(pane_id, render_page(pane_id, title, kind))

    def add_html(self, pane_id: str, page: str) -> str:
        """Serve ``page`` (a whole HTML document speaking the events above) for ``pane_id``;
        its URL."""
        self._pages[pane_id] = page
        return f"{self.base_url}/pane/{quote(pane_id, safe='')}"

    def start(self) -> None:
        self.record.parent.mkdir(parents=True, exist_ok=True)
        self.record.touch()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="chat-pages", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            http.shutdown()
            http.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # -- what came back ---------------------------------------------------------------

    def received(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    def texts(self, agent_id: str) -> list[str]:
        return texts_of(self.received(), agent_id)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Everything received once at least ``count`` submissions are in (bounded wait)."""
        got = self._wait(lambda: len(self._received) >= count, timeout)
        if not got:
            raise TimeoutError(
                f"chat pages received {len(self.received())} of {count} texts in {timeout}s"
            )
        return self.received()

    def clear(self) -> None:
        with self._changed:
            self._received.clear()
            self.record.write_text("", encoding="utf-8")

    def draft(self, pane_id: str) -> str | None:
        """What the pane's input holds now, as its page last said (None before any change)."""
        with self._changed:
            return self._draft_of(pane_id)

    def _draft_of(self, pane_id: str) -> str | None:
        entry = self._drafts.get(pane_id)
        return entry[1] if entry else None

    def wait_for_draft(self, pane_id: str, text: str, timeout: float = 5.0) -> None:
        """Until the pane's input holds exactly ``text``; ``TimeoutError`` says what it holds."""
        if not self._wait(lambda: self._draft_of(pane_id) == text, timeout):
            raise TimeoutError(
                f"the input of {pane_id} holds {self.draft(pane_id)!r:.200}, not {text!r:.200}"
                f" after {timeout}s"
            )

    def layout(self, pane_id: str) -> PageLayout | None:
        with self._changed:
            return self._layouts.get(pane_id)

    def wait_for_layout(self, pane_id: str, timeout: float) -> PageLayout:
        """The layout the page reports once it has loaded; ``TimeoutError`` if it does not."""
        if not self._wait(lambda: pane_id in self._layouts, timeout):
            raise TimeoutError(f"the page of {pane_id} did not load in {timeout:.1f}s")
        layout = self.layout(pane_id)
        assert layout is not None
        return layout

    def _wait(self, condition: Callable[[], bool], timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(condition, timeout)

    # -- events from the pages ----------------------------------------------------------

    def page(self, pane_id: str) -> str | None:
        return self._pages.get(pane_id)

    def asset(self, name: str) -> Path | None:
        """The file ``/assets/<name>`` stands for, if the assets folder holds it."""
        if self.assets is None:
            return None
        root = self.assets.resolve()
        path = (root / name).resolve()
        return path if path.is_relative_to(root) and path.is_file() else None

    def handle_event(self, event: Any) -> None:
        """Take one event a page posted; ``ValueError`` if it is malformed."""
        if not isinstance(event, dict):
            raise ValueError("an event is a JSON object")
        pane, kind, seq = event.get("pane"), event.get("kind"), event.get("seq")
        if pane not in self._pages or not isinstance(seq, int):
            raise ValueError(f"event for unknown pane {pane!r} or without a sequence number")
        if kind == "message":
            self._add(Received(pane, _text(event), time.time()))
        elif kind == "draft":
            self._set_draft(pane, seq, _text(event))
        elif kind == "ready":
            self._set_layout(pane, event)
        else:
            raise ValueError(f"unknown event kind {kind!r}")

    def _add(self, item: Received) -> None:
        line = {"agent_id": item.agent_id, "text": item.text, "at": item.at, "kind": item.kind}
        with self._changed:
            self._received.append(item)
            with self.record.open("a", encoding="utf-8") as record:
                record.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._changed.notify_all()

    def _set_draft(self, pane: str, seq: int, text: str) -> None:
        with self._changed:
            if seq > self._drafts.get(pane, (0, ""))[0]:
                self._drafts[pane] = (seq, text)
                self._changed.notify_all()

    def _set_layout(self, pane: str, event: dict[str, Any]) -> None:
        left, top, width, height = (float(v) for v in event["rect"])
        layout = PageLayout(left, top, width, height, float(event.get("scale", 1.0)))
        with self._changed:
            self._layouts[pane] = layout
            self._drafts.pop(pane, None)  # a (re)loaded page counts its events afresh
            self._changed.notify_all()


def _text(event: dict[str, Any]) -> str:
    text = event.get("text")
    if not isinstance(text, str):
        raise ValueError("event without a text")
    return text


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            prefix, assets = "/pane/", "/assets/"
            if self.path.startswith(assets):
                self._send_asset(unquote(self.path[len(assets) :]))
                return
            page = self.path.startswith(prefix) and server.page(unquote(self.path[len(prefix) :]))
            if not page:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            self._send(page.encode("utf-8"), "text/html; charset=utf-8")

        def _send_asset(self, name: str) -> None:
            path = server.asset(name)
            if path is None:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            text = kind.startswith("text/") or kind.endswith("javascript")
            self._send(path.read_bytes(), f"{kind}; charset=utf-8" if text else kind)

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.path != "/event" or not 0 < length <= MAX_BODY:
                self.send_error(HTTPStatus.BAD_REQUEST)
                return
            try:
                server.handle_event(json.loads(self.rfile.read(length)))
            except (ValueError, KeyError, TypeError) as exc:
                self.send_error(HTTPStatus.BAD_REQUEST, str(exc))
                return
            self.send_response(HTTPStatus.NO_CONTENT)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("chat page %s: " + format, self.address_string(), *args)

    return Handler
