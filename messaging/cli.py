"""``cellphone send | broadcast | retry | history | status | deliver``.

Each command persists first, lets the desk deliver, and reports the outcome for every
recipient. Exit codes: 0 every delivery reached its agent as intended, 1 some fell back
to the inbox, failed or are still queued, 2 bad input or configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from config import Home, Settings
from config.cli import (
    HomeOption,
    JsonOption,
    console,
    error_console,
    open_home,
    print_json,
    read_stdin,
)
from messaging.deliver import ScreenDeliverer
from messaging.desk import NOT_YET, desk_holder
from messaging.model import DeliveryState, Lane, Message, MessageType, Outcome
from messaging.pause import PauseFlag, WaitNote, checked_reason
from messaging.runtime import Runtime, open_runtime
from messaging.service import MessageService, Submission
from messaging.store import HistoryEntry

ScreenProvider = Callable[[Settings], ScreenDeliverer | None]
# what a long-running desk (``deliver --watch``) runs beside it, e.g. scheduled backups
AlongsideDesk = Callable[[Home, Settings], AbstractAsyncContextManager[None]]
# what follows the agents' files beside a long-running desk: outbox routing, devlogs
Watching = Callable[[Runtime], AbstractAsyncContextManager[None]]
# health checks shown by status: (check, ok | warn | fail, detail) each
StatusChecks = Callable[[Home, Settings], Sequence[tuple[str, str, str]]]
PROGRESS_AFTER_S = 0.5
EXIT_OK, EXIT_NOT_ALL_DELIVERED = 0, 1

PriorityOption = Annotated[
    str, typer.Option("--priority", "-p", help="normal, urgent or critical.")
]
KeyOption = Annotated[
    str | None,
    typer.Option("--key", help="Idempotency key: repeating the command with it never sends twice."),
]


class MessagingCommands:
    """The commands, bound to how this process reaches the screen."""

    def __init__(
        self,
        screen_provider: ScreenProvider,
        alongside_desk: AlongsideDesk | None = None,
        checks: StatusChecks | None = None,
        watching: Watching | None = None,
    ) -> None:
        self.screen_provider = screen_provider
        self.alongside_desk = alongside_desk
        self.checks = checks
        self.watching = watching

    def register(self, app: typer.Typer) -> None:
        app.command()(self.send)
        app.command()(self.broadcast)
        app.command()(self.retry)
        app.command()(self.history)
        app.command()(self.status)
        app.command()(self.deliver)
        app.command()(self.pause)
        app.command()(self.resume)
        app.command()(self.ack)

    # -- commands ----------------------------------------------------------------------

    def send(
        self,
        text: Annotated[str, typer.Argument(help="The message; - reads it from stdin.")],
        to: Annotated[
            list[str], typer.Option("--to", "-t", help="Recipient agent id (repeatable).")
        ],
        priority: PriorityOption = "normal",
        type: Annotated[
            str,
            typer.Option(
                "--type",
                help="operator-to-agent, agent-to-agent, system, broadcast or onboarding.",
            ),
        ] = "operator-to-agent",
        sender: Annotated[
            str | None, typer.Option(help="Sender shown to the agent (default: operator).")
        ] = None,
        key: KeyOption = None,
        from_agent: Annotated[
            str | None,
            typer.Option("--from", help="Send as this agent (agent-to-agent); a known agent id."),
        ] = None,
        reply_to: Annotated[
            str | None, typer.Option(help="Id of the message this answers (they form a thread).")
        ] = None,
        ack_required: Annotated[
            bool,
            typer.Option(help="Ask for acknowledgements: reminded once, then reported overdue."),
        ] = False,
        home: HomeOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Send a message to one or more agents and report how each got it."""
        body = _read_text(text)
        if from_agent is not None and sender is not None:
            raise ValueError("use --from (an agent) or --sender (any name), not both")
        if from_agent is not None and type == MessageType.OPERATOR:
            type = MessageType.AGENT

        def action(s: MessageService) -> Awaitable[Submission]:
            return s.send(
                to,
                body,
                priority=priority,
                type=type,
                sender=sender if from_agent is None else s.agent_sender(from_agent),
                key=key,
                reply_to=reply_to,
                ack_required=ack_required,
            )

        raise typer.Exit(self._run(home, as_json, action))

    def broadcast(
        self,
        text: Annotated[str, typer.Argument(help="The message; - reads it from stdin.")],
        exclude: Annotated[
            list[str] | None, typer.Option("--exclude", "-x", help="Agent to leave out.")
        ] = None,
        priority: PriorityOption = "normal",
        key: KeyOption = None,
        home: HomeOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Send a message to every active agent."""
        body = _read_text(text)
        code = self._run(
            home,
            as_json,
            lambda s: s.broadcast(body, exclude=exclude or (), priority=priority, key=key),
        )
        raise typer.Exit(code)

    def retry(
        self,
        message_id: Annotated[str, typer.Argument(help="Id shown by send or history.")],
        home: HomeOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Deliver again what of a message fell back, failed or waits on a retry."""

        async def requeue(service: MessageService) -> Submission:
            await service.retry(message_id)
            entry = await service.store.message(message_id)
            assert entry is not None
            return Submission(entry.message, created=True)

        raise typer.Exit(self._run(home, as_json, requeue))

    def history(
        self,
        agent: Annotated[str | None, typer.Option(help="Only messages to this agent.")] = None,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
        search: Annotated[
            str | None, typer.Option(help="Only messages containing all these words.")
        ] = None,
        thread: Annotated[
            str | None, typer.Option(help="The thread of this message id, oldest first.")
        ] = None,
        home: HomeOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Recent messages, newest first, with each recipient's outcome."""
        where, settings = open_home(home)

        async def query() -> list[HistoryEntry]:
            async with open_runtime(where, settings, start_desk=False) as rt:
                if thread is not None:
                    return await rt.service.thread(thread)
                return await rt.service.history(agent=agent, limit=limit, search=search)

        entries = asyncio.run(query())
        if as_json:
            print_json([_entry_json(e) for e in entries])
            return
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

    def status(self, home: HomeOption = None, as_json: JsonOption = False) -> None:
        """Queue depth per agent, the last outcome of each, and whether a desk runs."""
        where, settings = open_home(home)

        async def query() -> tuple[list[Any], int]:
            async with open_runtime(where, settings, start_desk=False) as rt:
                return await rt.service.status(), await rt.store.pending()

        queues, pending = asyncio.run(query())
        holder = desk_holder(where.var_dir / "desk.lock")
        paused = PauseFlag.of(where).reason()
        waiting = WaitNote.of(where).reason() if holder else None
        checks = self.checks(where, settings) if self.checks else []
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
                f"[red]{q.overdue}[/]" if q.overdue else "0",
                _mark(last.state, last.method) if last else "-",
                _when(last.updated_at) if last and last.updated_at else "-",
                _stall(q.stalled_since) + (last.last_error or "" if last else ""),
            )
        out = console()
        out.print(table)
        if paused:
            out.print(_paused_note(paused))
        if waiting:
            out.print(f"desk: {waiting}")
        if holder:
            out.print(f"desk: running in process {holder}; {pending} deliveries pending")
        else:
            out.print(
                f"desk: not running; {pending} deliveries pending "
                "(`cellphone deliver` delivers them)"
            )
        if checks:
            out.print(_checks_line(checks))

    def deliver(
        self,
        watch: Annotated[
            bool, typer.Option(help="Keep running and deliver new messages as they come.")
        ] = False,
        home: HomeOption = None,
    ) -> None:
        """Run the desk: deliver what is queued (and, with --watch, what comes later)."""
        where, settings = open_home(home)
        code = asyncio.run(self._deliver(where, settings, watch))
        raise typer.Exit(code)

    # -- plumbing ----------------------------------------------------------------------

    def _run(
        self,
        home: Path | None,
        as_json: bool,
        action: Callable[[MessageService], Awaitable[Submission]],
    ) -> int:
        where, settings = open_home(home)
        screen = self.screen_provider(settings)

        async def go() -> tuple[Submission, dict[str, Outcome], bool, str | None]:
            async with open_runtime(where, settings, screen) as rt:
                submission = await action(rt.service)
                outcomes = await _wait(rt, submission.message, show_progress=not as_json)
                return submission, outcomes, rt.desk_here, rt.desk.pause_reason

        submission, outcomes, desk_here, paused = asyncio.run(go())
        report(submission, outcomes, as_json=as_json, desk_here=desk_here, paused=paused)
        return (
            EXIT_OK if all(_as_intended(o) for o in outcomes.values()) else (EXIT_NOT_ALL_DELIVERED)
        )

    async def _deliver(self, where: Any, settings: Settings, watch: bool) -> int:
        screen = self.screen_provider(settings)
        async with open_runtime(where, settings, screen) as rt:
            if not rt.desk_here:
                holder = desk_holder(where.var_dir / "desk.lock")
                error_console().print(f"the desk of this home already runs in process {holder}")
                return EXIT_NOT_ALL_DELIVERED
            if watch:
                async with self._alongside(where, settings), self._watching(rt):
                    await asyncio.Event().wait()  # until Ctrl-C
            # until nothing is due: what is left waits on a retry time or on the pause
            await rt.desk.until_idle()
            pending = await rt.store.pending()
            paused = rt.desk.pause_reason
        out = console()
        out.print(f"{pending} deliveries still pending" if pending else "queue empty")
        if pending and paused:
            out.print(_paused_note(paused))
        return EXIT_NOT_ALL_DELIVERED if pending else EXIT_OK

    def _alongside(self, where: Home, settings: Settings) -> AbstractAsyncContextManager[None]:
        if self.alongside_desk is None:
            return contextlib.nullcontext()
        return self.alongside_desk(where, settings)

    def _watching(self, rt: Runtime) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext() if self.watching is None else self.watching(rt)

    def pause(
        self,
        reason: Annotated[
            str, typer.Option(help="Why; shown by status and in the outcomes of waiting messages.")
        ] = "paused by the operator",
        home: HomeOption = None,
    ) -> None:
        """Stop typing into chat panes: screen deliveries wait, inbox deliveries go on. Holds
        for every process of this home until `cellphone resume`."""
        where, _ = open_home(home)
        PauseFlag.of(where).set(checked_reason(reason))
        console().print(f"desk paused: {reason}; `cellphone resume` starts it again")

    def ack(
        self,
        message_ids: Annotated[list[str], typer.Argument(help="Ids shown by history.")],
        agent: Annotated[str, typer.Option("--agent", "-a", help="The agent acknowledging.")],
        home: HomeOption = None,
    ) -> None:
        """Acknowledge messages as an agent (as an `ack:` line in its outbox file does)."""
        where, settings = open_home(home)

        async def acknowledge() -> list[str]:
            async with open_runtime(where, settings, start_desk=False) as rt:
                return await rt.service.acknowledge(agent, message_ids)

        done = asyncio.run(acknowledge())
        out = console()
        for message_id in message_ids:
            state = "acknowledged" if message_id in done else "was already acknowledged"
            out.print(f"{agent} {state} {message_id}")

    def resume(self, home: HomeOption = None) -> None:
        """Start typing into chat panes again (after `cellphone pause`, `/pause` or the
        pyautogui fail-safe)."""
        where, _ = open_home(home)
        flag = PauseFlag.of(where)
        was = flag.reason()
        flag.clear()
        note = f"was paused: {was}" if was else "it was not paused"
        console().print(f"desk running ({note})")


async def _held(rt: Runtime) -> bool:
    """The desk is paused and what is left waits for the screen: waiting longer is useless."""
    return rt.desk.paused and await rt.store.due(Lane.INBOX) == 0


async def _wait(rt: Runtime, message: Message, *, show_progress: bool) -> dict[str, Outcome]:
    """Each recipient's outcome once all had an attempt, the wait runs out
    (``messaging.wait_timeout_s``), or the desk is paused with only typing left to do."""
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
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console(),
        transient=True,
    )


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
    out = console()
    if not submission.created:
        out.print(
            f"key {message.key!r} was used by message {message.id} at "
            f"{_when(message.created_at)}: nothing new sent; its outcomes:"
        )
    table = Table(
        "agent",
        "outcome",
        "via",
        "detail",
        title=f"message {message.id} ({message.type}, {message.priority})",
    )
    for o in outcomes.values():
        table.add_row(
            o.agent_id,
            _mark(o.state, o.method, settled_=o.reason != NOT_YET, verified=o.verified),
            str(o.method or "-"),
            (o.reason or "") + (" (possible repeat)" if o.possible_repeat else ""),
        )
    out.print(table)
    if not desk_here:
        out.print("delivered by the desk running in another process of this home")
    if waiting and paused:
        out.print(_paused_note(paused))


def _checks_line(checks: Sequence[tuple[str, str, str]]) -> str:
    ok = sum(1 for _, status, _ in checks if status == "ok")
    parts = [f"checks: {ok} of {len(checks)} ok"]
    for level, color in (("fail", "red"), ("warn", "yellow")):
        named = [f"{name} ({detail})" for name, status, detail in checks if status == level]
        if named:
            parts.append(f"[{color}]{level}[/]: " + "; ".join(named))
    if len(parts) > 1:
        parts.append("`cellphone doctor` says how to fix them")
    return "; ".join(parts)


def _stall(since: datetime | None) -> str:
    return f"[yellow]stalled since {_when(since)}[/] " if since else ""


def _paused_note(reason: str) -> str:
    return (
        f"the desk is paused ({reason}): what waits for typing stays queued; "
        "`cellphone resume` starts it again"
    )


def _as_intended(outcome: Outcome) -> bool:
    return outcome.state is DeliveryState.DELIVERED


def _mark(
    state: DeliveryState, method: Any, *, settled_: bool = True, verified: bool | None = None
) -> str:
    if state is DeliveryState.DELIVERED:
        seen = {True: ", verified", False: ", [yellow]unverified[/]", None: ""}[verified]
        return f"[green]delivered[/] via {method}{seen}"
    if state is DeliveryState.FALLBACK:
        return "[yellow]fallback[/] to inbox"
    if state is DeliveryState.QUEUED:
        return "[yellow]queued, retrying[/]" if settled_ else "queued"
    if state is DeliveryState.FAILED:
        return "[red]failed[/]"
    return str(state)


def _recipients(entry: HistoryEntry) -> str:
    """Each recipient with its outcome; for many, a count per outcome."""
    if len(entry.deliveries) <= 3:
        return "\n".join(
            f"{d.agent_id} {_mark(d.state, d.method, verified=d.verified)}"
            for d in entry.deliveries
        )
    counts: dict[str, int] = {}
    for d in entry.deliveries:
        mark = _mark(d.state, d.method, verified=d.verified)
        counts[mark] = counts.get(mark, 0) + 1
    return "\n".join(f"{n} {mark}" for mark, n in counts.items())


def _read_text(text: str) -> str:
    return read_stdin() if text == "-" else text


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


__all__ = ["MessagingCommands", "ScreenProvider", "report"]
