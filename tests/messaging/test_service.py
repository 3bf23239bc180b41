"""Accepting messages: validation errors lose nothing and write nothing."""

from __future__ import annotations

import shutil

import pytest

from agents import UnknownAgentError
from agents.frontmatter import parse
from config import Home, load_settings
from messaging.errors import (
    EmptyMessageError,
    IdempotencyConflictError,
    InvalidMessageTypeError,
    InvalidPriorityError,
    MessageTooLongError,
    NoRecipientsError,
    UnknownMessageError,
)
from messaging.model import DeliveryMethod, DeliveryState, Lane, MessageType, Priority
from messaging.runtime import Runtime, open_runtime
from messaging.service import InvalidSenderError
from tests.conftest import inbox_files


async def test_send_persists_then_delivers_to_inbox(runtime: Runtime, home: Home) -> None:
    submission = await runtime.service.send(["Agent-3"], "Run the tests ✓ 🚀", priority="urgent")
    stored = await runtime.store.message(submission.message.id)
    assert stored is not None and stored.message.priority is Priority.URGENT
    outcomes = await runtime.desk.wait_for(submission.message.id, 10)
    assert outcomes["Agent-3"].state is DeliveryState.DELIVERED
    [path] = inbox_files(home, "Agent-3")
    text = path.read_text(encoding="utf-8")
    assert submission.message.id in path.name
    assert "[C2A] Captain → Agent-3" in text
    assert "Priority: URGENT" in text
    assert "Run the tests ✓ 🚀" in text
    assert "priority: urgent" in text and f"id: {submission.message.id}" in text


@pytest.mark.parametrize(
    ("recipients", "body", "kwargs", "error", "words"),
    [
        (["Agent-99"], "hi", {}, UnknownAgentError, "known agents: Agent-1"),
        (["../x"], "hi", {}, UnknownAgentError, "'../x'"),
        (["Agent-1/../../etc"], "hi", {}, UnknownAgentError, "Agent-1/../../etc"),
        (["Agent-1"], "", {}, EmptyMessageError, "empty"),
        (["Agent-1"], "  \n\t", {}, EmptyMessageError, "empty"),
        (["Agent-1"], "x" * 20_001, {}, MessageTooLongError, "20,001 characters"),
        (["Agent-1"], "hi", {"priority": "asap"}, InvalidPriorityError, "'asap'"),
        (["Agent-1"], "hi", {"type": "memo"}, InvalidMessageTypeError, "'memo'"),
        ([], "hi", {}, NoRecipientsError, "at least one"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    runtime: Runtime,
    home: Home,
    recipients: list[str],
    body: str,
    kwargs: dict[str, str],
    error: type[Exception],
    words: str,
) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(")):
        await runtime.service.send(recipients, body, **kwargs)  # type: ignore[arg-type]
    assert await runtime.store.history(limit=5) == []
    assert not list(home.workspaces_dir.glob("*/inbox/*"))
    assert not (home.workspaces_dir / "x").exists()


async def test_maximum_length_is_a_setting(home: Home) -> None:
    settings = load_settings(home, messaging={"max_message_length": 10})
    async with open_runtime(home, settings) as rt:
        await rt.service.send(["Agent-1"], "x" * 10)
        with pytest.raises(MessageTooLongError, match="maximum is 10"):
            await rt.service.send(["Agent-1"], "x" * 11)


async def test_broadcast_reaches_active_agents_except_excluded(
    runtime: Runtime, home: Home
) -> None:
    submission = await runtime.service.broadcast("stand-up", exclude=["Agent-4"])
    assert submission.message.type is MessageType.BROADCAST
    outcomes = await runtime.desk.wait_for(submission.message.id, 10)
    assert sorted(outcomes) == sorted(f"Agent-{n}" for n in range(1, 9) if n != 4)
    assert inbox_files(home, "Agent-4") == []
    with pytest.raises(UnknownAgentError):
        await runtime.service.broadcast("x", exclude=["Agent-42"])


async def test_idempotency_key_never_sends_twice(runtime: Runtime, home: Home) -> None:
    first = await runtime.service.send(["Agent-2"], "deploy", key="deploy-7")
    again = await runtime.service.send(["Agent-2"], "deploy", key="deploy-7")
    assert first.created and not again.created
    assert again.message.id == first.message.id
    await runtime.desk.wait_for(first.message.id, 10)
    assert len(inbox_files(home, "Agent-2")) == 1
    with pytest.raises(IdempotencyConflictError, match="deploy-7"):
        await runtime.service.send(["Agent-2"], "something else", key="deploy-7")


async def test_history_by_agent_and_full_text(runtime: Runtime) -> None:
    a = await runtime.service.send(["Agent-1"], "refactor the parser module")
    b = await runtime.service.send(["Agent-2"], "write parser tests")
    await runtime.service.send(["Agent-1", "Agent-2"], "lunch")
    found = await runtime.service.history(search="parser")
    assert [e.message.id for e in found] == [b.message.id, a.message.id]
    only_one = await runtime.service.history(agent="Agent-1", search="parser")
    assert [e.message.id for e in only_one] == [a.message.id]
    assert len(await runtime.service.history(agent="Agent-1")) == 2
    assert await runtime.service.history(search='"unbalanced AND (') == []
    with pytest.raises(UnknownAgentError):
        await runtime.service.history(agent="Agent-77")


async def test_retry_of_unknown_message(runtime: Runtime) -> None:
    with pytest.raises(UnknownMessageError, match="'nope'"):
        await runtime.service.retry("nope")


async def test_a_key_with_the_same_recipients_in_another_order_is_the_same_message(
    runtime: Runtime, home: Home
) -> None:
    first = await runtime.service.send(["Agent-1", "Agent-2"], "deploy", key="deploy-8")
    again = await runtime.service.send(["Agent-2", "Agent-1"], "deploy", key="deploy-8")
    assert not again.created and again.message.id == first.message.id
    with pytest.raises(IdempotencyConflictError, match="deploy-8"):
        await runtime.service.send(["Agent-1", "Agent-3"], "deploy", key="deploy-8")


@pytest.mark.parametrize(
    "sender", ["Ops\nto: Agent-9", "Ops\r", "tab\there", "", "   ", "x" * 65, "bell\x07"]
)
async def test_a_sender_must_be_one_printable_line(
    runtime: Runtime, home: Home, sender: str
) -> None:
    with pytest.raises(InvalidSenderError, match="one line of 1 to 64 printable") as caught:
        await runtime.service.send(["Agent-1"], "hi", sender=sender)
    assert repr(sender) in str(caught.value)
    assert await runtime.store.history(limit=5) == []


async def test_a_sender_of_64_characters_heads_the_letter(runtime: Runtime, home: Home) -> None:
    sender = 'Ops: the "night" shift ✓ # ' + "x" * 37
    sub = await runtime.service.send(["Agent-1"], "hi\nto: Agent-9\n---", sender=sender)
    await runtime.desk.wait_for(sub.message.id, 10)
    [letter] = inbox_files(home, "Agent-1")
    text = letter.read_text(encoding="utf-8")
    document = parse(text)
    assert document.fields["from"] == sender and document.fields["to"] == "Agent-1"
    assert set(document.fields) == {"from", "to", "priority", "type", "time", "id", "delivered_via"}
    assert document.body.splitlines()[0] == f"[C2A] {sender} → Agent-1"
    assert text.splitlines()[:2] == [
        "---",
        'from: "Ops: the \\"night\\" shift ✓ # ' + "x" * 37 + '"',
    ]


async def test_retry_without_a_screen_goes_to_the_inbox_again(runtime: Runtime, home: Home) -> None:
    # no screen in this process (headless): a retried delivery is an inbox delivery, not
    # a screen delivery falling back
    inbox = home.workspaces_dir / "Agent-5" / "inbox"
    shutil.rmtree(inbox)
    inbox.write_text("a file where the inbox folder should be")
    sub = await runtime.service.send(["Agent-5"], "are you there?")
    outcomes = await runtime.desk.wait_for(sub.message.id, 10)
    assert outcomes["Agent-5"].state is DeliveryState.QUEUED
    inbox.unlink()
    inbox.mkdir()
    assert await runtime.service.retry(sub.message.id) == ["Agent-5"]
    [row] = await runtime.store.deliveries(sub.message.id)
    assert row.lane is Lane.INBOX
    outcomes = await runtime.desk.wait_for(sub.message.id, 10)
    assert outcomes["Agent-5"].state is DeliveryState.DELIVERED, outcomes["Agent-5"].reason
    assert outcomes["Agent-5"].method is DeliveryMethod.INBOX


async def test_retry_of_a_recipient_no_longer_in_the_file_fails_with_the_reason(
    home: Home,
) -> None:
    settings = load_settings(home)
    async with open_runtime(home, settings, start_desk=False) as rt:
        sub = await rt.service.send(["Agent-7", "Agent-8"], "bye")
    home.coordinates_file.write_text('{"agents": {"Agent-7": {}}}')
    async with open_runtime(home, settings) as rt:
        await rt.desk.wait_for(sub.message.id, 10)
        assert await rt.service.retry(sub.message.id) == ["Agent-8"]
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
    assert outcomes["Agent-8"].state is DeliveryState.FAILED
    assert "unknown agent 'Agent-8'" in (outcomes["Agent-8"].reason or "")
