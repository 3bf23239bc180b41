"""``cellphone send | broadcast | retry | history | status | deliver``.

Each command persists first, lets the desk deliver, and reports the outcome for every
recipient. Exit codes: 0 every delivery reached its agent as intended, 1 some fell back
to the inbox, failed or are still queued, 2 bad input or configuration. The store, the desk
and what prints the outcomes (:mod:`messaging.reporting`) are loaded when a command runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from config.cli import HomeOption, JsonOption, console, error_console, open_home, read_stdin

if TYPE_CHECKING:
    from config.settings import Home, Settings
    from messaging.deliver import ScreenDeliverer
    from messaging.model import Outcome
    from messaging.runtime import Runtime
    from messaging.service import MessageService, Submission
    from messaging.store import HistoryEntry

ScreenProvider = Callable[["Settings"], "ScreenDeliverer | None"]
# what a long-running desk (``deliver --watch``) runs beside it, e.g. scheduled backups
AlongsideDesk = Callable[["Home", "Settings"], AbstractAsyncContextManager[None]]
# what follows the agents' files beside a long-running desk: outbox routing, devlogs
Watching = Callable[["Runtime"], AbstractAsyncContextManager[None]]
# health checks shown by status: (check, ok | warn | fail, detail) each
StatusChecks = Callable[["Home", "Settings"], Sequence[tuple[str, str, str]]]
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
        from messaging.model import MessageType

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
        from messaging.service import Submission

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
        import asyncio

        from messaging import reporting
        from messaging.runtime import open_runtime

        where, settings = open_home(home)

        async def query() -> list[HistoryEntry]:
            async with open_runtime(where, settings, start_desk=False) as rt:
                if thread is not None:
                    return await rt.service.thread(thread)
                return await rt.service.history(agent=agent, limit=limit, search=search)

        entries = asyncio.run(query())
        reporting.print_history(entries, as_json=as_json)

    def status(self, home: HomeOption = None, as_json: JsonOption = False) -> None:
        """Queue depth per agent, the last outcome of each, and whether a desk runs."""
        import asyncio

        from messaging import reporting
        from messaging.desk import desk_holder
        from messaging.pause import PauseFlag, WaitNote
        from messaging.runtime import open_runtime

        where, settings = open_home(home)

        async def query() -> tuple[list[Any], int]:
            async with open_runtime(where, settings, start_desk=False) as rt:
                return await rt.service.status(), await rt.store.pending()

        queues, pending = asyncio.run(query())
        holder = desk_holder(where.var_dir / "desk.lock")
        paused = PauseFlag.of(where).reason()
        waiting = WaitNote.of(where).reason() if holder else None
        checks = self.checks(where, settings) if self.checks else []
        reporting.print_status(queues, pending, holder, paused, waiting, checks, as_json=as_json)

    def deliver(
        self,
        watch: Annotated[
            bool, typer.Option(help="Keep running and deliver new messages as they come.")
        ] = False,
        home: HomeOption = None,
    ) -> None:
        """Run the desk: deliver what is queued (and, with --watch, what comes later)."""
        import asyncio

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
        import asyncio

        from messaging import reporting
        from messaging.runtime import open_runtime

        where, settings = open_home(home)
        screen = self.screen_provider(settings)

        async def go() -> tuple[Submission, dict[str, Outcome], bool, str | None]:
            async with open_runtime(where, settings, screen) as rt:
                submission = await action(rt.service)
                outcomes = await reporting.wait(rt, submission.message, show_progress=not as_json)
                return submission, outcomes, rt.desk_here, rt.desk.pause_reason

        submission, outcomes, desk_here, paused = asyncio.run(go())
        reporting.report(submission, outcomes, as_json=as_json, desk_here=desk_here, paused=paused)
        delivered = all(reporting.as_intended(o) for o in outcomes.values())
        return EXIT_OK if delivered else EXIT_NOT_ALL_DELIVERED

    async def _deliver(self, where: Any, settings: Settings, watch: bool) -> int:
        import asyncio

        from messaging.desk import desk_holder
        from messaging.reporting import paused_note
        from messaging.runtime import open_runtime

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
            out.print(paused_note(paused))
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
        from messaging.pause import PauseFlag, checked_reason

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
        import asyncio

        from messaging.runtime import open_runtime

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
        from messaging.pause import PauseFlag

        where, _ = open_home(home)
        flag = PauseFlag.of(where)
        was = flag.reason()
        flag.clear()
        note = f"was paused: {was}" if was else "it was not paused"
        console().print(f"desk running ({note})")


def _read_text(text: str) -> str:
    return read_stdin() if text == "-" else text


__all__ = ["MessagingCommands", "ScreenProvider"]
