"""What the messaging commands print: each recipient's outcome of a message, the history
and status tables, and their JSON forms; and the wait for outcomes, with its progress bar.
Loaded when a command runs, not when the commands are listed.

The outcomes of ``send`` and ``broadcast`` are plain aligned lines (colored on a terminal):
agents read them after every message they send, and they print without loading rich."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from config.cli import console, error_console, print_json, styled
from messaging.desk import NOT_YET
from messaging.model import DeliveryState, Lane, Message, Outcome
from messaging.runtime import Runtime
from messaging.service import Submission
from messaging.store import HistoryEntry

if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.text import Text

PROGRESS_AFTER_S = 0.5


async def _held(rt: Runtime) -> bool:
    """The desk is paused and what is left waits for the screen: waiting longer is useless."""
    return rt.desk.paused and await rt.store.due(Lane.INBOX) == 0


async def wait(rt: Runtime, message: Message, *, show_progress: bool) -> dict[str, Outcome]:
    """Each recipient's outcome once all had an attempt, the wait runs out
    (``messaging.wait_timeout_s``), or the desk is paused with only typing left to do.

    When the desk of another process stopped with the message still queued (it ran for a
    send of its own, and ended before it took this one), this process's desk starts and
    delivers it: two `cellphone send` at once both get their outcomes."""
    timeout = rt.settings.messaging.wait_timeout_s
    total = len(message.recipients)
    show_progress = show_progress and sys.stderr.isatty() and total >= 2
    deadline = time.monotonic() + timeout
    progress: Progress | None = None
    started = time.monotonic()
    try:
        while True:
            outcomes = await rt.desk.wait_for(message.id, min(0.2, timeout))
            done = sum(1 for o in outcomes.values() if o.reason != NOT_YET)
            if done == total or time.monotonic() >= deadline:
                return outcomes
            if not any(o.state is DeliveryState.DELIVERING for o in outcomes.values()) and (
                await _held(rt)
            ):
                return outcomes
            if not rt.desk.running:
                await rt.desk.start()  # nothing when another process runs the desk
            if show_progress and progress is None and time.monotonic() - started > PROGRESS_AFTER_S:
                progress = _progress()
                progress.start()
                task = progress.add_task("delivering", total=total)
            if progress is not None:
                progress.update(task, completed=done, description=rt.desk.waiting or "delivering")
    finally:
        if progress is not None:
            progress.stop()


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console(),
        transient=True,
    )


def print_history(entries: list[HistoryEntry], *, as_json: bool) -> None:
    """Messages with each recipient's outcome, as ``cellphone history`` shows them."""
    if as_json:
        print_json([_entry_json(e) for e in entries])
        return
    from rich.table import Table

    table = Table("time", "from", "to", "priority", "text")
    table.add_column("id", no_wrap=True, min_width=16)
    for e in entries:
        table.add_row(
            _when(e.message.created_at),
            e.message.sender,
            _recipients(e),
            str(e.message.priority),
            _preview(e.message.body),
            e.message.id,
        )
    console().print(table)


def print_status(
    queues: list[Any],
    pending: int,
    holder: int | None,
    paused: str | None,
    waiting: str | None,
    checks: Sequence[tuple[str, str, str]],
    *,
    as_json: bool,
) -> None:
    """Queues per agent, the desk and the health checks, as ``cellphone status`` shows them."""
    if as_json:
        print_json(
            {
                "checks": [{"check": c, "status": st, "detail": d} for c, st, d in checks],
                "desk_pid": holder,
                "desk_paused": paused,
                "desk_waiting": waiting,
                "pending": pending,
                "agents": [
                    {
                        "agent": q.agent_id,
                        "queued": q.queued,
                        "delivering": q.delivering,
                        "unread": q.unread,
                        "overdue": q.overdue,
                        "stalled_since": q.stalled_since,
                        "last": _delivery_json(q.last) if q.last else None,
                    }
                    for q in queues
                ],
            }
        )
        return
    from rich.table import Table

    table = Table(
        "agent", "queued", "delivering", "unread", "overdue", "last outcome", "when", "detail"
    )
    for q in queues:
        last = q.last
        table.add_row(
            q.agent_id,
            str(q.queued),
            str(q.delivering),
            str(q.unread),
            styled((str(q.overdue), "red")) if q.overdue else "0",
            _marks(last.state, last.method).rich() if last else "-",
            _when(last.updated_at) if last and last.updated_at else "-",
            _stall(q.stalled_since).plus(last.last_error or "" if last else "").rich(),
        )
    out = console()
    out.print(table)
    if paused:
        out.print(paused_note(paused))
    if waiting:
        out.print(f"desk: {waiting}")
    if holder:
        out.print(f"desk: running in process {holder}; {pending} deliveries pending")
    else:
        out.print(
            f"desk: not running; {pending} deliveries pending (`cellphone deliver` delivers them)"
        )
    if checks:
        out.print(_checks_line(checks))


def report(
    submission: Submission,
    outcomes: dict[str, Outcome],
    *,
    as_json: bool,
    desk_here: bool,
    paused: str | None = None,
) -> None:
    message = submission.message
    waiting = any(o.reason == NOT_YET for o in outcomes.values())
    if as_json:
        print_json(
            {
                "message_id": message.id,
                "created": submission.created,
                "key": message.key,
                "outcomes": [_outcome_json(o) for o in outcomes.values()],
                "desk_paused": paused,
            }
        )
        return
    lines = []
    if not submission.created:
        lines.append(
            f"key {message.key!r} was used by message {message.id} at "
            f"{_when(message.created_at)}: nothing new sent; its outcomes:"
        )
    lines.append(f"message {message.id} ({message.type}, {message.priority})")
    rows = [[Cell("agent"), Cell("outcome"), Cell("via"), Cell("detail")]]
    for o in outcomes.values():
        outcome = _marks(o.state, o.method, settled_=o.reason != NOT_YET, verified=o.verified)
        detail = (o.reason or "") + (" (possible repeat)" if o.possible_repeat else "")
        rows.append([Cell(o.agent_id), outcome, Cell(str(o.method or "-")), Cell(detail)])
    colored = _colors_wanted(sys.stdout)
    lines.extend(_columns(rows, colored))
    if not desk_here:
        lines.append("delivered by the desk running in another process of this home")
    if waiting and paused:
        lines.append(paused_note(paused))
    sys.stdout.write("".join(line + "\n" for line in lines))


class Cell(list[tuple[str, str | None]]):
    """Text made of parts, each with the color it is shown in (None: the terminal's)."""

    def __init__(self, text: str = "", color: str | None = None) -> None:
        super().__init__([(text, color)] if text else [])

    def plus(self, text: str, color: str | None = None) -> Cell:
        self.append((text, color))
        return self

    def then(self, other: Cell) -> Cell:
        self.extend(other)
        return self

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self)

    def rich(self) -> Text:
        """For rich tables and lines (history, status)."""
        return styled(*(text if color is None else (text, color) for text, color in self))

    def shown(self, colored: bool) -> str:
        if not colored:
            return self.text
        return "".join(f"\x1b[{ANSI[c]}m{t}\x1b[0m" if c else t for t, c in self)


ANSI = {"green": "32", "yellow": "33", "red": "31"}


def _columns(rows: list[list[Cell]], colored: bool) -> list[str]:
    """Rows as lines of aligned columns; the last column is not padded."""
    widths = [max(len(row[i].text) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        padded = [
            c.shown(colored) + " " * (w - len(c.text)) for c, w in zip(row, widths, strict=False)
        ]
        lines.append("  ".join([*padded, row[-1].shown(colored)]).rstrip())
    return lines


def _colors_wanted(stream: Any) -> bool:
    """Colors only on a terminal, and not when NO_COLOR is set (no-color.org)."""
    import os

    return (
        bool(stream.isatty())
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
    )


def _checks_line(checks: Sequence[tuple[str, str, str]]) -> Text:
    ok = sum(1 for _, status, _ in checks if status == "ok")
    line = Cell(f"checks: {ok} of {len(checks)} ok")
    for level, color in (("fail", "red"), ("warn", "yellow")):
        named = [f"{name} ({detail})" for name, status, detail in checks if status == level]
        if named:
            line.plus("; ").plus(level, color).plus(": " + "; ".join(named))
    if len(line) > 1:
        line.plus("; `cellphone doctor` says how to fix them")
    return line.rich()


def _stall(since: datetime | None) -> Cell:
    return Cell(f"stalled since {_when(since)}", "yellow").plus(" ") if since else Cell()


def paused_note(reason: str) -> str:
    return (
        f"the desk is paused ({reason}): what waits for typing stays queued; "
        "`cellphone resume` starts it again"
    )


def as_intended(outcome: Outcome) -> bool:
    return outcome.state is DeliveryState.DELIVERED


def _marks(
    state: DeliveryState, method: Any, *, settled_: bool = True, verified: bool | None = None
) -> Cell:
    """How a delivery ended, in words and colors."""
    if state is DeliveryState.DELIVERED:
        cell = Cell("delivered", "green").plus(f" via {method}")
        if verified is True:
            cell.plus(", verified")
        elif verified is False:
            cell.plus(", ").plus("unverified", "yellow")
        return cell
    if state is DeliveryState.FALLBACK:
        return Cell("fallback", "yellow").plus(" to inbox")
    if state is DeliveryState.QUEUED:
        return Cell("queued, retrying", "yellow") if settled_ else Cell("queued")
    if state is DeliveryState.FAILED:
        return Cell("failed", "red")
    return Cell(str(state))


def _recipients(entry: HistoryEntry) -> Text:
    """Each recipient with its outcome; for many, a count per outcome."""
    marks = [(d.agent_id, _marks(d.state, d.method, verified=d.verified)) for d in entry.deliveries]
    if len(marks) <= 3:
        lines = [Cell(f"{agent} ").then(mark) for agent, mark in marks]
    else:
        counts: dict[str, tuple[int, Cell]] = {}
        for _, mark in marks:
            seen, _ = counts.get(mark.text, (0, mark))
            counts[mark.text] = (seen + 1, mark)
        lines = [Cell(f"{n} ").then(mark) for n, mark in counts.values()]
    return styled("\n").join(line.rich() for line in lines)


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _preview(body: str, width: int = 60) -> str:
    line = " ".join(body.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "agent": o.agent_id,
        "state": str(o.state),
        "method": str(o.method) if o.method else None,
        "reason": o.reason,
        "possible_repeat": o.possible_repeat,
        "attempts": o.attempts,
        "verified": o.verified,
    }


def _delivery_json(d: Any) -> dict[str, Any]:
    return {
        "agent": d.agent_id,
        "state": str(d.state),
        "method": str(d.method) if d.method else None,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "possible_repeat": d.possible_repeat,
        "verified": d.verified,
        "updated_at": d.updated_at,
        "delivered_at": d.delivered_at,
        "read_at": d.read_at,
        "acked_at": d.acked_at,
        "nudged_at": d.nudged_at,
        "overdue_at": d.overdue_at,
    }


def _entry_json(e: HistoryEntry) -> dict[str, Any]:
    m = e.message
    return {
        "id": m.id,
        "sender": m.sender,
        "type": str(m.type),
        "priority": str(m.priority),
        "created_at": m.created_at,
        "body": m.body,
        "tags": list(m.tags),
        "key": m.key,
        "reply_to": m.reply_to,
        "ack_required": m.ack_required,
        "deliveries": [_delivery_json(d) for d in e.deliveries],
    }
