"""The desk typing into chat inputs built from the real web editors (Monaco, ProseMirror,
Tiptap, Lexical rich text, CodeMirror 6; see ``tests/editors``) in Chromium on the shared
three-monitor display, through the service and the desk. Each page reports what its editor's
own text API held when Enter sent it; that is the editor's text as pasted, or exactly what the
editor documents doing with it (:mod:`tests.editors.rewriting`). A busy pane of each editor
(Enter does nothing while the agent works) is opened beside them: the broadcast leaves those
out. What the person at the screen has typed into an editor (xdotool, through XTEST like a
keyboard) is never typed over nor sent, at first contact or after the desk saw the input
empty."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from config import Home, load_settings
from coordinates.virtual_display import VirtualDisplay
from messaging.model import DeliveryMethod, DeliveryState, Message, Outcome
from messaging.render import render
from messaging.runtime import Runtime, open_runtime
from messaging.screen.gui import GuiDeliverer
from tests.conftest import make_home
from tests.editors.pages import EDITORS, EditorPane, EditorPanes, editors_folder
from tests.editors.panes import BUSY, CHAT, coordinates_of
from tests.editors.rewriting import held
from tests.gui.test_real_apps import text_of

pytestmark = [pytest.mark.display, pytest.mark.slow]

EDITOR_OF = {pane.agent_id: pane.editor for pane in (*CHAT, *BUSY)}
UNICODE = "Grüße, 世界! ✓ «quoted» ∑ ½ naïve façade 🚀 — ½ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 é (e + ◌́)"
DRAFT = "operator draft, half written"
SETTLE_S = 30.0
PARAGRAPHS = (
    "The first paragraph: what to do.\n\n"
    "The second one, with a list:\n- one\n- two\n\n"
    "The third: thanks ✓"
)


@contextlib.contextmanager
def opened_editors(display: VirtualDisplay, folder: Path) -> Iterator[EditorPanes]:
    """A chat pane and a busy pane of every editor on ``display``."""
    with EditorPanes([*CHAT, *BUSY], display.name, folder, editors_folder()) as apps:
        yield apps


@contextlib.asynccontextmanager
async def fresh_desk(home: Home, editors: EditorPanes) -> AsyncIterator[Runtime]:
    """A desk that never saw these inputs; it tries a delivery held by a draft again every
    second, and waits half a second for the hands of the operator (xdotool, below)."""
    editors.clear()
    settings = load_settings(home)
    gui = settings.gui.replaced(draft_retry_s=1.0, operator_idle_s=0.5)
    settings = settings.replaced(gui=gui)
    screen = GuiDeliverer(settings.gui)
    async with open_runtime(home, settings, screen) as rt:
        yield rt
    screen.close()


@pytest.fixture(scope="module")
def editors(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EditorPanes]:
    with opened_editors(x_display, tmp_path_factory.mktemp("editors")) as apps:
        yield apps


@pytest.fixture
def home(tmp_path: Path, editors: EditorPanes) -> Home:
    """Coordinates where the pages really put their inputs."""
    return make_home(tmp_path / "home", coordinates_of(editors.pane_points()))


@pytest.fixture
async def desk(home: Home, editors: EditorPanes) -> AsyncIterator[Runtime]:
    async with fresh_desk(home, editors) as rt:
        yield rt


async def send(desk: Runtime, agent_id: str, body: str) -> tuple[Message, Outcome]:
    submission = await desk.service.send([agent_id], body)
    outcomes = await desk.desk.wait_for(submission.message.id, 30)
    return submission.message, outcomes[agent_id]


def expected(desk: Runtime, message: Message, agent_id: str) -> str:
    """What the agent's editor holds of the message as typed: as pasted, or rewritten the
    way that editor rewrites pasted text."""
    typed = render(message, agent_id, desk.settings.messaging.footer)
    return held(EDITOR_OF[agent_id], typed)


def assert_delivered(outcome: Outcome, what: object) -> None:
    assert (outcome.state, outcome.method, outcome.verified) == (
        DeliveryState.DELIVERED,
        DeliveryMethod.GUI,
        True,
    ), (what, outcome.summary)


def pane_of(editor: str) -> EditorPane:
    return next(pane for pane in CHAT if pane.editor == editor)


async def deliver_each(
    desk: Runtime, editors: EditorPanes, pane: EditorPane, bodies: list[str], misses: int = 0
) -> list[str]:
    """Each body to the editor's chat pane, back to back; each one delivered, verified, and
    held by the editor exactly as expected, in order. What the editor held. Up to
    ``misses`` may be reported not delivered (an honest fallback: the screen could not tell
    in time), never one reported delivered that the editor did not hold."""
    wanted: list[str] = []
    missed = []
    for body in bodies:
        message, outcome = await send(desk, pane.agent_id, body)
        text = expected(desk, message, pane.agent_id)
        if misses and outcome.state is DeliveryState.FALLBACK:
            missed.append((body[:40], outcome.summary))
            with contextlib.suppress(TimeoutError):  # it may have been sent all the same
                editors.wait_for(len(editors.received()) + 1, timeout=2)
            if editors.texts(pane.agent_id)[len(wanted) :] == [text]:
                wanted.append(text)
            continue
        assert_delivered(outcome, (pane.editor, body[:40]))
        wanted.append(text)
    assert len(missed) <= misses, missed
    editors.wait_for(len(wanted), timeout=20)
    assert editors.texts(pane.agent_id) == wanted
    return wanted


@pytest.mark.parametrize("editor", EDITORS)
async def test_each_editor_holds_short_and_long_texts_as_sent_or_as_it_rewrites_them(
    desk: Runtime, editors: EditorPanes, editor: str
) -> None:
    bodies = ["short: run the tests ✓", text_of(2_000, 2), text_of(10_000, 10)]
    await deliver_each(desk, editors, pane_of(editor), bodies)


# the rewriting asserted as text, not only as modelled: ProseMirror and Tiptap drop blank
# lines, Lexical rich text doubles every line break; the others hold the text as typed
PARAGRAPHS_HELD = {
    "monaco": PARAGRAPHS,
    "prosemirror": "The first paragraph: what to do.\nThe second one, with a list:\n- one\n- two\n"
    "The third: thanks ✓",
    "lexical": "The first paragraph: what to do.\n\n\n\nThe second one, with a list:\n\n- one"
    "\n\n- two\n\n\n\nThe third: thanks ✓",
    "codemirror": PARAGRAPHS,
}
PARAGRAPHS_HELD["tiptap"] = PARAGRAPHS_HELD["prosemirror"]


@pytest.mark.parametrize("editor", EDITORS)
async def test_each_editor_holds_unicode_and_three_paragraphs(
    desk: Runtime, editors: EditorPanes, editor: str
) -> None:
    unicode, paragraphs = await deliver_each(desk, editors, pane_of(editor), [UNICODE, PARAGRAPHS])
    assert f"\n{UNICODE}\n" in unicode
    assert f"\n{PARAGRAPHS_HELD[editor]}\n" in paragraphs


async def test_tiptap_alone_turns_pasted_markdown_marks_into_formatting(
    desk: Runtime, editors: EditorPanes
) -> None:
    body = "**bold** and _x_ and `code` and ~~s~~ end; # h and - item kept"
    sent = {}
    for pane in CHAT:
        message, outcome = await send(desk, pane.agent_id, body)
        assert_delivered(outcome, pane.editor)
        sent[pane.editor] = render(message, pane.agent_id, desk.settings.messaging.footer)
    editors.wait_for(len(CHAT), timeout=10)
    texts = {EDITOR_OF[r.agent_id]: r.text for r in editors.received()}
    tiptap = sent["tiptap"].replace(body, "bold and x and code and s end; # h and - item kept")
    assert texts["tiptap"] == held("prosemirror", tiptap)
    for editor in ("monaco", "prosemirror", "lexical", "codemirror"):
        assert texts[editor] == held(editor, sent[editor]), editor


async def test_a_broadcast_reaches_the_five_editor_panes(
    desk: Runtime, editors: EditorPanes
) -> None:
    body = "to every editor: stand by ✓\nsecond line"
    submission = await desk.service.broadcast(body, exclude=[pane.agent_id for pane in BUSY])
    outcomes = await desk.desk.wait_for(submission.message.id, 60)
    assert sorted(outcomes) == sorted(pane.agent_id for pane in CHAT)
    for agent_id, outcome in outcomes.items():
        assert_delivered(outcome, EDITOR_OF[agent_id])
    editors.wait_for(len(CHAT), timeout=10)
    for pane in CHAT:
        want = expected(desk, submission.message, pane.agent_id)
        assert editors.texts(pane.agent_id) == [want], pane.editor


def operator(editors: EditorPanes, *args: str) -> None:
    """The person at the screen, through xdotool."""
    env = {**os.environ, "DISPLAY": editors.display}
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=30)


def operator_writes(editors: EditorPanes, pane: EditorPane, text: str) -> None:
    x, y = editors.pane_points()[pane.agent_id]
    operator(editors, "mousemove", str(x), str(y), "click", "1")
    operator(editors, "type", "--delay", "15", text)
    editors.wait_for_draft(pane.agent_id, text)


async def final_outcome(desk: Runtime, message: Message, agent_id: str) -> Outcome:
    """The recipient's outcome once it is no longer queued (held), or when SETTLE_S ran out."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        outcome = (await desk.desk.wait_for(message.id, SETTLE_S))[agent_id]
        if outcome.state is not DeliveryState.QUEUED or time.monotonic() > deadline:
            return outcome
        await asyncio.sleep(0.2)


async def held_while_the_draft_stays(
    desk: Runtime, editors: EditorPanes, pane: EditorPane, body: str
) -> Message:
    operator_writes(editors, pane, DRAFT)
    submission = await desk.service.send([pane.agent_id], body)
    outcome = (await desk.desk.wait_for(submission.message.id, SETTLE_S))[pane.agent_id]
    assert outcome.state is DeliveryState.QUEUED, (pane.editor, outcome.summary)
    assert (outcome.reason or "").startswith("held"), (pane.editor, outcome.summary)
    await asyncio.sleep(1.5)  # a retry or two while the draft stays
    assert editors.draft(pane.agent_id) == DRAFT, pane.editor
    return submission.message


@pytest.mark.parametrize("editor", EDITORS)
async def test_an_operators_draft_is_never_typed_over_nor_sent_at_first_contact_or_after(
    desk: Runtime, editors: EditorPanes, editor: str
) -> None:
    pane = pane_of(editor)
    sent: list[str] = []
    for body in ("the first message, at first contact", "the second, to an input seen empty"):
        message = await held_while_the_draft_stays(desk, editors, pane, body)
        assert editors.texts(pane.agent_id) == sent, editor
        operator(editors, "key", "Return")  # the operator sends the draft: the input is free
        outcome = await final_outcome(desk, message, pane.agent_id)
        assert_delivered(outcome, editor)
        sent += [held(editor, DRAFT), expected(desk, message, pane.agent_id)]
        editors.wait_for(len(sent), timeout=10)
        assert editors.texts(pane.agent_id) == sent, editor


def test_the_page_server_serves_the_bundles_and_nothing_beside_them(
    editors: EditorPanes,
) -> None:
    server = editors.server
    for name, kind in (("tiptap.js", "text/javascript"), ("monaco.css", "text/css")):
        with urlopen(f"{server.base_url}/assets/{name}", timeout=5) as response:
            assert response.headers["Content-Type"] == f"{kind}; charset=utf-8"
            assert response.read() == (editors_folder() / name).read_bytes()
    for name in ("../.complete", "%2e%2e/.complete", "missing.js", "/etc/hostname"):
        with pytest.raises(HTTPError) as refused:
            urlopen(f"{server.base_url}/assets/{name}", timeout=5)
        assert refused.value.code == 404, name
