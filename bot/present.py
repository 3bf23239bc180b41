"""How the bot shows things in Discord: outcomes per recipient, agents, queues, history;
and how long text is cut into messages Discord accepts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from discord.utils import escape_markdown, escape_mentions

from agents import Agent
from messaging.model import DeliveryState, Message, Outcome
from messaging.service import Submission
from messaging.store import AgentQueue, HistoryEntry

MESSAGE_LIMIT = 2_000
PREVIEW = 80
ICONS = {
    DeliveryState.DELIVERED: "✅",
    DeliveryState.FALLBACK: "📥",
    DeliveryState.FAILED: "❌",
    DeliveryState.CANCELLED: "🚫",
    DeliveryState.QUEUED: "⏳",
    DeliveryState.DELIVERING: "⌨️",
}


def quote(text: str) -> str:
    """Agent or user text made inert: no markdown, no mentions."""
    return escape_mentions(escape_markdown(text))


def preview(body: str, limit: int = PREVIEW) -> str:
    line = " ".join(body.split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return quote(line)


def when(moment: datetime | None) -> str:
    return f"<t:{int(moment.timestamp())}:R>" if moment else "never"


def headline(message: Message) -> str:
    who = (
        ", ".join(message.recipients)
        if len(message.recipients) <= 4
        else (f"{len(message.recipients)} agents")
    )
    return f"**{message.type}** `{message.id}` ({message.priority}) → {who}"


def queued(submission: Submission) -> str:
    message = submission.message
    if not submission.created:
        return f"{headline(message)}\nalready sent with this key; showing its outcome…"
    return f"{headline(message)}\n⏳ queued; waiting for the desk…"


def outcome_line(outcome: Outcome) -> str:
    if outcome.state is DeliveryState.QUEUED and outcome.reason == "not delivered yet":
        text = "still queued (the desk has not reached it yet)"
    else:
        text = outcome.summary
    return f"{ICONS.get(outcome.state, '•')} {outcome.agent_id}: {quote(text)}"


def delivered(message: Message, outcomes: dict[str, Outcome]) -> str:
    lines = [headline(message), *(outcome_line(o) for o in outcomes.values())]
    if any(o.state in (DeliveryState.QUEUED, DeliveryState.DELIVERING) for o in outcomes.values()):
        lines.append(f"`/history` shows the outcome once the desk gets to it (`{message.id}`)")
    return "\n".join(lines)


def tally(outcomes: dict[str, Outcome]) -> str:
    """A short count per state, for the audit log."""
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[str(outcome.state)] = counts.get(str(outcome.state), 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))


def agents(registry: Iterable[Agent], queues: Sequence[AgentQueue]) -> str:
    by_id = {q.agent_id: q for q in queues}
    lines = ["**agents**"]
    for agent in registry:
        queue = by_id.get(agent.agent_id)
        last = queue.last if queue else None
        role = quote(agent.role) if agent.role else "_no role_"
        state = "active" if agent.active else "inactive"
        latest = (
            f"{ICONS.get(last.state, '•')} {last.state} {when(last.updated_at)}"
            if last
            else ("no delivery yet")
        )
        lines.append(f"`{agent.agent_id}` · {role} · {state} · last: {latest}{attention(queue)}")
    return "\n".join(lines)


def queues(rows: Sequence[AgentQueue]) -> list[str]:
    lines = []
    for q in rows:
        last = q.last
        detail = f"{ICONS.get(last.state, '•')} {last.state}" if last else "—"
        if last and last.last_error:
            detail += f" ({preview(last.last_error, 60)})"
        lines.append(
            f"`{q.agent_id}` queued {q.queued} · delivering {q.delivering} · last {detail}"
            + attention(q)
        )
    return lines


def attention(queue: AgentQueue | None) -> str:
    """Unread and overdue counts, and a stall, of an agent's queue."""
    if queue is None:
        return ""
    text = f" · unread {queue.unread}"
    if queue.overdue:
        text += f" · ⏰ overdue {queue.overdue}"
    if queue.stalled_since is not None:
        text += f" · ⚠️ stalled since {when(queue.stalled_since)}"
    return text


def history(entries: Sequence[HistoryEntry]) -> str:
    if not entries:
        return "no messages yet"
    lines = []
    for entry in entries:
        m = entry.message
        states = " ".join(f"{ICONS.get(d.state, '•')}{d.agent_id}" for d in entry.deliveries)
        answers = f" ↳ reply to `{m.reply_to}`" if m.reply_to else ""
        lines.append(
            f"`{m.id}` {when(m.created_at)} {quote(m.sender)} ({m.priority}) {states}{answers}\n"
            f"> {preview(m.body)}"
        )
    return "\n".join(lines)


def pieces(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` cut into parts of at most ``limit`` characters, at line ends where it can
    be (a longer line is cut inside it). Nothing is dropped."""
    parts: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        while len(line) > limit:
            if current is not None:
                parts.append(current)
            parts.append(line[:limit])
            line, current = line[limit:], None
            if not line:
                break
        else:
            candidate = line if current is None else f"{current}\n{line}"
            if len(candidate) > limit:
                assert current is not None
                parts.append(current)
                candidate = line
            current = candidate
    if current is not None or not parts:
        parts.append(current or "")
    return parts
