"""The tools of one agent: each reads its arguments, calls the messaging service, the store,
the agent's workspace or the devlog poster as the ``cellphone`` commands do, and returns
the text those commands print. Bad input raises before anything is stored."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.registry import Agent
from agents.workspace import Workspace
from config import DeliveryMode, Home, Settings
from messaging import reporting
from messaging.deliver import ScreenDeliverer
from messaging.desk import Desk
from messaging.errors import MessagingError, UnknownMessageError, shown
from messaging.mcp import schemas
from messaging.mcp.arguments import Arguments, ToolArgumentError
from messaging.model import DeliveryState, MessageType
from messaging.pause import PauseFlag, WaitNote
from messaging.runtime import Runtime
from messaging.service import MessageService, parse_priority
from messaging.store import Delivery, HistoryEntry
from messaging.tmux.lane import TmuxLane

ALL = "all"
STATUS_FIELDS = ("state", "task", "progress")
MAX_STATUS_FIELD = 300  # what the status reader keeps of a field
INBOX_WINDOW = 1000  # newest messages looked through for the unread ones
IN_INBOX = (DeliveryState.DELIVERED, DeliveryState.FALLBACK)
TAKE_OVER_AFTER_S = 0.2  # how often a send whose desk runs elsewhere checks that it still runs

# (home, settings, agent id, title, text) -> the line `cellphone devlog create` prints
DevlogPoster = Callable[[Home, Settings, str, str, str], Awaitable[str]]
ScreenSource = Callable[[], ScreenDeliverer | None]
ScreenProvider = Callable[[Settings], ScreenDeliverer | None]


def lazy_screen(provider: ScreenProvider, settings: Settings, looks: Path) -> ScreenSource:
    """This process's screen deliverer, made by ``provider`` at the first send (the display
    libraries load then, if at all) and kept."""
    made: list[ScreenDeliverer | None] = []

    def screen() -> ScreenDeliverer | None:
        if not made:
            deliverer = provider(settings)
            if deliverer is not None:
                deliverer.remember_looks_in(looks)
            made.append(deliverer)
        return made[0]

    return screen


class AgentTools:
    """The tools of ``agent_id`` on the home of ``base`` (a runtime whose desk does not run:
    each send runs a desk of its own while it delivers, as ``cellphone send`` does)."""

    def __init__(
        self,
        base: Runtime,
        agent_id: str,
        screen: ScreenSource,
        post_devlog: DevlogPoster | None = None,
    ) -> None:
        self.base = base
        self.agent_id = base.service.agent_sender(agent_id)
        self.screen = screen
        self.poster = post_devlog
        self._sending = asyncio.Lock()  # one desk of this process at a time
        self.handlers: dict[str, Callable[[Arguments], Awaitable[str]]] = {
            schemas.SEND: self.send,
            schemas.LIST_INBOX: self.list_inbox,
            schemas.READ: self.read_message,
            schemas.ACKNOWLEDGE: self.acknowledge,
            schemas.SET_STATUS: self.set_status,
            schemas.POST_DEVLOG: self.post_devlog,
            schemas.LIST_AGENTS: self.list_agents,
        }

    async def call(self, name: str, arguments: dict[str, Any] | None) -> str:
        handler = self.handlers.get(name)
        if handler is None:
            raise ToolArgumentError(
                f"unknown tool {shown(name)}; the tools are " + ", ".join(self.handlers)
            )
        return await handler(Arguments(name, arguments))

    # -- messages ------------------------------------------------------------------------

    async def send(self, args: Arguments) -> str:
        to = args.texts("to")
        text = args.required_text("text")
        priority = parse_priority(args.text("priority", required=False) or "normal")
        reply_to = args.text("reply_to", required=False)
        thread = args.text("thread", required=False)
        ack_required = args.flag("ack_required")
        args.done()
        kind = MessageType.AGENT
        if ALL in to:
            if to != [ALL]:
                raise ToolArgumentError(
                    f"send_message: to {to!r} names 'all' beside agents; 'all' is every other "
                    "active agent: give it alone"
                )
            kind = MessageType.BROADCAST
            registry = self.base.registry.current()
            to = [a.agent_id for a in registry.active() if a.agent_id != self.agent_id]
            if not to:
                raise ToolArgumentError("send_message: no other agent is active to send to")
        if thread is not None:
            reply_to = await self._answering(thread, reply_to)
        async with self._sending, self._delivering() as rt:
            submission = await rt.service.send(
                to,
                text,
                sender=self.agent_id,
                type=kind,
                priority=priority,
                reply_to=reply_to,
                ack_required=ack_required,
            )
            outcomes = await reporting.wait(rt, submission.message, show_progress=False)
            return _printed(
                reporting.report,
                submission,
                outcomes,
                as_json=False,
                desk_here=rt.desk_here,
                paused=rt.desk.pause_reason,
            )

    async def _answering(self, thread: str, reply_to: str | None) -> str:
        """The message a new one in ``thread`` answers: ``reply_to`` when it is of that
        thread, else the thread's newest message."""
        entries = await self.base.service.thread(thread)
        if reply_to is None:
            return entries[-1].message.id
        if reply_to not in {e.message.id for e in entries}:
            raise ToolArgumentError(
                f"send_message: reply_to {shown(reply_to)} is not of the thread of "
                f"{shown(thread)}; give one of them, or a reply_to of that thread"
            )
        return reply_to

    async def list_inbox(self, args: Arguments) -> str:
        limit = args.number("limit", 20, 1, 200)
        unread_only = args.flag("unread_only")
        args.done()
        entries = await self.base.service.history(agent=self.agent_id, limit=INBOX_WINDOW)
        mine = [(e, d) for e in entries if (d := self._delivery(e)) and d.state in IN_INBOX]
        unread = [(e, d) for e, d in reversed(mine) if d.read_at is None]
        rest = [] if unread_only else [(e, d) for e, d in mine if d.read_at is not None]
        shown_ = (unread + rest)[:limit]
        head = f"{self.agent_id}: {len(unread)} unread"
        if not shown_:
            return head + "; the inbox holds nothing" + (" unread" if unread_only else "")
        lines = [head + f"; {len(shown_)} shown (unread first, oldest first; then newest first)"]
        lines += [_inbox_line(e, d) for e, d in shown_]
        lines.append("read_message shows one in full and marks it read")
        return "\n".join(lines)

    async def read_message(self, args: Arguments) -> str:
        message_id = args.required_text("message_id")
        whole_thread = args.flag("thread")
        args.done()
        entry = await self._mine(message_id)
        await self.base.store.mark_read(self.agent_id, [message_id])
        if not whole_thread:
            return _full(entry, self.agent_id)
        thread = await self.base.service.thread(message_id)
        seen = [e for e in thread if self._delivery(e) or e.message.sender == self.agent_id]
        await self.base.store.mark_read(self.agent_id, [e.message.id for e in seen])
        parts = [f"thread of {message_id}: {len(seen)} messages, oldest first"]
        return "\n\n".join(parts + [_full(e, self.agent_id) for e in seen])

    async def acknowledge(self, args: Arguments) -> str:
        message_ids = args.texts("message_ids")
        args.done()
        for message_id in message_ids:
            await self._mine(message_id)  # every id checked before any is acknowledged
        done = await self.base.service.acknowledge(self.agent_id, message_ids)
        return "\n".join(
            f"{self.agent_id} "
            + ("acknowledged" if message_id in done else "was already acknowledged")
            + f" {message_id}"
            for message_id in dict.fromkeys(message_ids)
        )

    # -- the agent's files ---------------------------------------------------------------

    async def set_status(self, args: Arguments) -> str:
        values = {name: args.text(name, required=name == "state") for name in STATUS_FIELDS}
        args.done()
        status = {name: _status_field(name, value) for name, value in values.items() if value}
        if "state" not in status:
            raise ToolArgumentError("set_status: state is empty; say what you are doing")
        workspace = self._workspace()
        await asyncio.to_thread(workspace.create)  # an agent added since `cellphone init`
        path = workspace.status_file
        await asyncio.to_thread(_write_atomic, path, json.dumps(status, ensure_ascii=False))
        said = ", ".join(f"{name} {status[name]!r}" for name in STATUS_FIELDS if name in status)
        return f"{self.agent_id} status: {said} (written to {path})"

    async def post_devlog(self, args: Arguments) -> str:
        title = args.required_text("title")
        text = args.required_text("text")
        args.done()
        if self.poster is None:
            raise MessagingError("devlogs cannot be posted from this server; write a devlog file")
        return await self.poster(self.base.home, self.base.settings, self.agent_id, title, text)

    async def list_agents(self, args: Arguments) -> str:
        args.done()
        from messaging.activity import read_status  # loads the workspace watcher: not at start

        registry = self.base.registry.current()
        queues = {q.agent_id: q for q in await self.base.service.status()}
        lines = []
        for agent in registry:
            q = queues.get(agent.agent_id)
            path = Workspace.of(self.base.home.workspaces_dir, agent).status_file
            said = await asyncio.to_thread(_status_said, read_status, path)
            you = " (you)" if agent.agent_id == self.agent_id else ""
            lines.append(
                f"{agent.agent_id}{you}: {agent.role or 'no role'}; "
                f"{'active' if agent.active else 'inactive'}; via {_lane(agent)}; {said}; "
                f"{q.unread if q else 0} unread, {q.queued if q else 0} queued"
            )
        return "\n".join(lines)

    # -- plumbing ------------------------------------------------------------------------

    def _delivery(self, entry: HistoryEntry) -> Delivery | None:
        return next((d for d in entry.deliveries if d.agent_id == self.agent_id), None)

    async def _mine(self, message_id: str) -> HistoryEntry:
        entry = await self.base.service.find(message_id)
        if entry is None:
            raise UnknownMessageError(message_id)
        if self._delivery(entry) is None:
            raise ToolArgumentError(
                f"message {shown(message_id)} is not addressed to {self.agent_id}; "
                "list_inbox shows yours"
            )
        return entry

    def _workspace(self) -> Workspace:
        agent = self.base.registry.current().get(self.agent_id)
        return Workspace.of(self.base.home.workspaces_dir, agent)

    @contextlib.asynccontextmanager
    async def _delivering(self) -> AsyncIterator[Runtime]:
        """A runtime on the open store whose desk runs while a message is delivered (none
        runs when another process of the home runs the desk: that one delivers it)."""
        base, home, settings = self.base, self.base.home, self.base.settings
        screen = self.screen()
        panes = None
        if settings.messaging.delivery_mode is not DeliveryMode.INBOX:
            panes = TmuxLane(settings.tmux, home.var_dir / "tmux")
        desk = Desk(
            base.store,
            base.registry,
            home.workspaces_dir,
            settings,
            screen=screen,
            lock_path=home.var_dir / "desk.lock",
            pause_flag=PauseFlag.of(home),
            wait_note=WaitNote.of(home),
            panes=panes,
        )
        service = MessageService(
            base.store,
            base.registry,
            desk,
            settings,
            screen_enabled=screen is not None,
            tmux_enabled=panes is not None,
        )
        try:
            await desk.start()
            yield Runtime(home, settings, base.store, base.registry, desk, service)
        finally:
            await desk.stop()


def _printed(report: Callable[..., None], *args: Any, **kwargs: Any) -> str:
    """What ``report`` prints, as text (it writes to standard output: the wire is elsewhere)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        report(*args, **kwargs)
    return out.getvalue().rstrip("\n")


def _inbox_line(entry: HistoryEntry, delivery: Delivery) -> str:
    m = entry.message
    state = "unread" if delivery.read_at is None else "read"
    if delivery.acked_at is not None:
        state = "acknowledged"
    elif m.ack_required:
        state += ", acknowledgement asked"
    preview = " ".join(m.body.split())
    preview = preview if len(preview) <= 80 else preview[:79] + "…"
    return f"- {m.id}  {_when(m.created_at)}  from {m.sender}  {m.priority}  [{state}]  {preview}"


def _full(entry: HistoryEntry, agent_id: str) -> str:
    m = entry.message
    lines = [
        f"id: {m.id}",
        f"from: {m.sender}",
        f"to: {', '.join(m.recipients)}",
        f"time: {_when(m.created_at)}",
        f"type: {m.type}, priority: {m.priority}",
    ]
    if m.reply_to:
        lines.append(f"reply to: {m.reply_to}")
    if m.ack_required and m.sender != agent_id:
        lines.append("acknowledgement asked: use acknowledge")
    return "\n".join([*lines, "", m.body])


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _lane(agent: Agent) -> str:
    if agent.tmux is not None:
        return f"tmux {agent.tmux}"
    return "screen" if agent.chat_point is not None else "inbox"


def _status_said(read_status: Callable[[Path], Any], path: Path) -> str:
    """An agent's status.json in words, read as the workspace watcher reads it."""
    try:
        status = read_status(path)
    except FileNotFoundError:
        return "no status yet"
    except (OSError, ValueError) as exc:
        return f"status unreadable: {exc}"
    values = (status.state, status.task, status.progress)
    said = [f"{name} {value}" for name, value in zip(STATUS_FIELDS, values, strict=True) if value]
    return "; ".join(said) or "status without a state"


def _status_field(name: str, value: str) -> str:
    line = " ".join(value.split())
    if len(line) > MAX_STATUS_FIELD:
        raise ToolArgumentError(
            f"set_status: {name} is {len(line)} characters; keep it to {MAX_STATUS_FIELD}"
        )
    if not line.isprintable():
        raise ToolArgumentError(f"set_status: {name} {shown(value)} holds a control character")
    return line


def _write_atomic(path: os.PathLike[str], text: str) -> None:
    """Write under a hidden name, flush, rename into place: a reader (the workspace watcher
    takes a renamed file at once) never sees half a status."""
    target = os.fspath(path)
    folder, name = os.path.split(target)
    temp = os.path.join(folder, f".{name}.writing")
    with open(temp, "w", encoding="utf-8") as file:
        file.write(text + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, target)
