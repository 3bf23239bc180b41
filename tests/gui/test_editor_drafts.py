"""Editor panes typed into in turn each get every message, and a busy pane of each editor
(Enter does nothing while the agent works) never gets a delivery reported. Same pages as
``test_editors.py``, a set of their own for this module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from config import Home
from coordinates.virtual_display import VirtualDisplay
from messaging.model import DeliveryState
from messaging.runtime import Runtime
from tests.conftest import inbox_files, make_home
from tests.editors.pages import EDITORS, EditorPanes
from tests.editors.panes import BUSY, CHAT, coordinates_of
from tests.gui.test_editors import (
    EDITOR_OF,
    PARAGRAPHS,
    UNICODE,
    assert_delivered,
    deliver_each,
    expected,
    fresh_desk,
    opened_editors,
    pane_of,
    send,
)
from tests.gui.test_real_apps import text_of

pytestmark = [pytest.mark.display, pytest.mark.slow]

SETTLE_S = 30.0


@pytest.fixture(scope="module")
def editors(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EditorPanes]:
    with opened_editors(x_display, tmp_path_factory.mktemp("drafts")) as apps:
        yield apps


@pytest.fixture
def home(tmp_path: Path, editors: EditorPanes) -> Home:
    return make_home(tmp_path / "home", coordinates_of(editors.pane_points()))


@pytest.fixture
async def desk(home: Home, editors: EditorPanes) -> AsyncIterator[Runtime]:
    """A desk that never saw these inputs, as in ``test_editors.py``."""
    async with fresh_desk(home, editors) as rt:
        yield rt


async def test_editor_panes_taking_turns_each_hold_every_message(
    desk: Runtime, editors: EditorPanes
) -> None:
    """Messages go to the five panes in turn (the desk clicks into another window between
    two messages to one pane), each one delivered, verified and held as expected."""
    wanted: dict[str, list[str]] = {pane.agent_id: [] for pane in CHAT}
    for body in ("short: run the tests ✓", text_of(2_000, 2), UNICODE, PARAGRAPHS):
        for pane in CHAT:
            submission = await desk.service.send([pane.agent_id], body)
            outcome = (await desk.desk.wait_for(submission.message.id, SETTLE_S))[pane.agent_id]
            assert_delivered(outcome, (pane.editor, body[:40]))
            wanted[pane.agent_id].append(expected(desk, submission.message, pane.agent_id))
    editors.wait_for(4 * len(CHAT), timeout=10)
    for pane in CHAT:
        assert editors.texts(pane.agent_id) == wanted[pane.agent_id], pane.editor


@pytest.mark.parametrize("editor", EDITORS)
async def test_thirty_messages_back_to_back_each_arrive_as_expected(
    desk: Runtime, editors: EditorPanes, editor: str
) -> None:
    """Back to back, the desk clicks again within the double-click interval unless the input
    kept its focus; a click counted as a double click in ProseMirror or Tiptap puts the
    paste after an empty paragraph (the text arrives after an empty line)."""
    bodies = [f"message {index}: {text_of(200, index)}" for index in range(30)]
    await deliver_each(desk, editors, pane_of(editor), bodies, misses=1)


async def test_a_busy_pane_of_each_editor_is_never_reported_delivered(
    desk: Runtime, editors: EditorPanes
) -> None:
    # a unicode message, then a short one right after it, as in the reported false claim
    for pane in BUSY:
        for body in (UNICODE, "short, while the agent still works"):
            _, outcome = await send(desk, pane.agent_id, body)
            assert outcome.state is not DeliveryState.DELIVERED, (pane.editor, outcome.summary)
            assert outcome.state is DeliveryState.FALLBACK, (pane.editor, outcome.summary)
        assert len(inbox_files(desk.home, pane.agent_id)) == 2, pane.editor
    assert [r for r in editors.received() if r.agent_id in EDITOR_OF] == []
