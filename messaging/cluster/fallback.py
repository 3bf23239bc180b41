"""What the coordinator does with deliveries for the agents of a gone desk (its heartbeat
expired): it hands them over to no one, writes each into the agent's inbox folder in the
coordinator's home (where that agent's forwarded files land too), and records a fallback
whose reason names the desk that stopped answering and how to hand it over once it is back.
"""

from __future__ import annotations

import asyncio

from agents import UnknownAgentError, Workspace
from messaging.desk import Desk
from messaging.inbox import InboxLetter, write_letters
from messaging.model import DeliveryMethod, DeliveryState, Outcome
from messaging.render import render
from messaging.store import Attempt, Claimed


def stopped_answering(desk: str, silent_s: float, message_id: str) -> str:
    return (
        f"desk {desk} stopped answering (no heartbeat for over {silent_s:g} s); written to the "
        f"inbox at the coordinator instead; `cellphone retry {message_id}` hands it to {desk} "
        "once it is back"
    )


async def fall_back_here(desk: Desk, items: list[Claimed], name: str, silent_s: float) -> None:
    """Write ``items`` (deliveries for agents of the gone desk ``name``) into their agents'
    inboxes here, and record each as a fallback saying so."""
    registry = desk.registry.current()
    footer = desk.settings.messaging.footer
    letters: list[tuple[Claimed, InboxLetter]] = []
    results: list[tuple[Claimed, DeliveryState, str]] = []
    for item in items:
        d = item.delivery
        reason = stopped_answering(name, silent_s, d.message.id)
        try:
            agent = registry.get(d.agent_id)
        except UnknownAgentError as exc:
            results.append((item, DeliveryState.FAILED, f"{reason}; then {exc}"))
            continue
        letter = InboxLetter(
            inbox=Workspace.of(desk.workspaces_dir, agent).inbox,
            message=d.message,
            agent_id=d.agent_id,
            text=render(d.message, d.agent_id, footer),
            possible_repeat=d.possible_repeat,
            reason=reason,
        )
        letters.append((item, letter))
    written = await asyncio.to_thread(write_letters, [letter for _, letter in letters])
    for (item, letter), result in zip(letters, written, strict=True):
        assert letter.reason is not None
        if isinstance(result, OSError):
            error = f"{letter.reason}; then cannot write inbox {letter.inbox}: {result}"
            results.append((item, DeliveryState.FAILED, error))
        else:
            results.append((item, DeliveryState.FALLBACK, letter.reason))
    await desk.settle(
        [
            Attempt(
                item.seq,
                item.delivery.agent_id,
                state,
                DeliveryMethod.INBOX if state is DeliveryState.FALLBACK else None,
                error=reason,
            )
            for item, state, reason in results
        ],
        [
            Outcome(
                item.delivery.message.id,
                item.delivery.agent_id,
                state,
                DeliveryMethod.INBOX if state is DeliveryState.FALLBACK else None,
                reason,
                possible_repeat=item.delivery.possible_repeat,
                attempts=item.delivery.attempts,
            )
            for item, state, reason in results
        ],
    )
