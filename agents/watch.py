"""Watching the agents' workspaces: files they drop into ``outbox/`` and ``devlogs/``,
their ``status.json``, and their inbox files being opened or moved (read).

Filesystem events (watchdog, inotify here) say where to look; a periodic scan finds what
events missed (a restart, a symlinked workspace). A watcher with a reader of the inboxes
watches the whole tree; one without (a desk joined to a coordinator, which writes letters
into the inboxes all day) watches each agent's folder and the folders it hands on, and
asks the kernel for no opens. A file is handed on once its size and
modification time stayed the same for ``settle_s``, or at once when it was renamed into
place (written completely under another name first); temporary names (hidden, ``~``,
``.tmp``, ``.part``, ``.swp``) are never handed on. The handler moves the file away; one
that raises is logged and the file is offered again by the next scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from agents.registry import Agent
from agents.source import RegistrySource

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"
TEMP_SUFFIXES = ("~", ".tmp", ".part", ".swp", ".crdownload")
QUIET_CACHE_S = 0.05  # how long a held quiet lock is believed without reading it again
QUIET_AFTER_S = 2.0  # opens are still not reads this long after the lock's folder changed


@dataclass(frozen=True)
class Arrival:
    """A file of an agent that stopped changing: ``folder`` is ``outbox``, ``devlogs`` or
    ``status.json`` (then ``path`` is that file)."""

    agent: Agent
    folder: str
    path: Path


Handler = Callable[[Arrival], Awaitable[None]]
# (agent id, inbox file name, opened: True, moved or removed: False)
ReadHandler = Callable[[str, str, bool], Awaitable[None]]


def is_temporary(name: str) -> bool:
    return name.startswith(".") or name.endswith(TEMP_SUFFIXES)


class WorkspaceWatcher:
    def __init__(
        self,
        workspaces_dir: Path,
        registry: RegistrySource,
        handlers: Mapping[str, Handler],
        *,
        on_read: ReadHandler | None = None,
        settle_s: float = 0.1,
        rescan_s: float = 2.0,
        quiet_opens: Path | None = None,
    ) -> None:
        self.workspaces_dir = workspaces_dir
        self.registry = registry
        self.handlers = dict(handlers)
        self.on_read = on_read
        self.settle_s = settle_s
        self.rescan_s = rescan_s
        self.quiet_opens = quiet_opens  # while a process holds a flock on it, opens are not reads
        self._events: asyncio.Queue[tuple[str, Path]] = asyncio.Queue()
        self._pending: dict[Path, tuple[tuple[int, int], float]] = {}
        self._handled: dict[Path, tuple[int, int]] = {}  # files that stay (status.json)
        self._observer: BaseObserver | None = None
        self._relay: _Relay | None = None
        # without a reader of the inbox: each folder watched on its own, with its identity
        self._watches: dict[Path, tuple[tuple[int, int], ObservedWatch]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        """Scan once, then follow events until :meth:`stop`."""
        self.workspaces_dir.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        observer = Observer()
        reads = self.on_read is not None
        self._relay = _Relay(loop, self._events, self.quiet_opens)
        if reads:
            observer.schedule(self._relay, str(self.workspaces_dir), recursive=True)
        observer.daemon = True
        await asyncio.to_thread(observer.start)
        self._observer = observer
        if not reads:
            self._watch_folders()
        self._task = asyncio.create_task(self._run(), name="workspace-watcher")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop after the file being handled (cancelled only after ``grace_s``)."""
        if self._task is not None:
            self._stopping = True
            self._events.put_nowait(("stop", self.workspaces_dir))
            await asyncio.wait([self._task], timeout=grace_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._observer is not None:
            self._observer.stop()
            await asyncio.to_thread(self._observer.join, 5)
            self._observer = None

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        next_scan = 0.0
        while not self._stopping:
            now = time.monotonic()
            if now >= next_scan:
                self._scan()
                next_scan = now + self.rescan_s
            deadline = min([d for _, d in self._pending.values()] + [next_scan])
            with contextlib.suppress(TimeoutError):
                kind, path = await asyncio.wait_for(
                    self._events.get(), max(0.0, deadline - time.monotonic())
                )
                await self._note_event(kind, path)
            while not self._events.empty():
                await self._note_event(*self._events.get_nowait())
            await self._dispatch_due()

    async def _note_event(self, kind: str, path: Path) -> None:
        place = self._place(path)
        if place is None:
            return
        agent_id, folder = place
        if folder == "inbox":
            if kind in ("opened", "moved") and self.on_read is not None:
                opened = kind == "opened"
                await _guard(self.on_read(agent_id, path.name, opened), f"read of {path}")
        elif kind in ("changed", "renamed"):
            self._note(path, settled=kind == "renamed")

    def _watch_folders(self) -> None:
        """Without a reader of the inbox, each agent's folder and the folders handed on are
        watched one by one instead of the whole tree: a desk writing letters into the
        inboxes all day is not woken for each (a third of a desk's CPU in
        ``bench/cluster.py``). No inbox is watched, so none of its events comes at all.
        A folder made (or made again) later is watched from the next scan on, which then
        finds the files it already holds."""
        if self._observer is None or self._relay is None:
            return
        wanted: dict[Path, tuple[int, int]] = {}
        for agent in self.registry.current():
            root = self.workspaces_dir / agent.agent_id
            for folder in (root, *(root / f for f in self.handlers if f != STATUS_FILE)):
                with contextlib.suppress(OSError):
                    info = folder.stat()
                    if stat.S_ISDIR(info.st_mode):
                        wanted[folder] = (info.st_dev, info.st_ino)
        # a folder removed ends its watch, and one made again may have the same inode
        alive = {emitter.watch for emitter in list(self._observer.emitters) if emitter.is_alive()}
        for folder, (identity, watch) in list(self._watches.items()):
            if wanted.get(folder) != identity or watch not in alive:
                with contextlib.suppress(KeyError, OSError):
                    self._observer.unschedule(watch)
                del self._watches[folder]
        for folder, identity in wanted.items():
            if folder in self._watches:
                continue
            try:
                watch = self._observer.schedule(self._relay, str(folder), event_filter=_CHANGES)
            except OSError as exc:  # gone meanwhile, or out of inotify watches
                log.warning("cannot watch %s (the scans still look): %s", folder, exc)
                continue
            self._watches[folder] = (identity, watch)

    def _scan(self) -> None:
        if self.on_read is None:
            self._watch_folders()  # first, so nothing made after the listing is missed
        for agent in self.registry.current():
            root = self.workspaces_dir / agent.agent_id
            for folder in self.handlers:
                if folder == STATUS_FILE:
                    if (root / STATUS_FILE).is_file():
                        self._note(root / STATUS_FILE)
                    continue
                with contextlib.suppress(OSError):
                    for path in (root / folder).iterdir():
                        if path.is_file() and not is_temporary(path.name):
                            self._note(path)

    def _note(self, path: Path, *, settled: bool = False) -> None:
        """Hand ``path`` on once it kept its size and time for ``settle_s``; at once when
        ``settled`` (renamed into place: written completely under another name)."""
        signature = _signature(path)
        if signature is None:
            self._pending.pop(path, None)
            return
        if self._handled.get(path) == signature:
            return  # handled as it is now
        known = self._pending.get(path)
        if known is None or known[0] != signature or settled:
            wait = 0.0 if settled else self.settle_s
            self._pending[path] = (signature, time.monotonic() + wait)

    async def _dispatch_due(self) -> None:
        now = time.monotonic()
        for path, (signature, deadline) in list(self._pending.items()):
            if deadline > now or self._stopping:
                continue
            current = _signature(path)
            if current != signature:
                self._note(path)  # still changing, or gone
                continue
            del self._pending[path]
            if await self._hand_on(path) and path.name == STATUS_FILE:
                self._handled[path] = signature

    async def _hand_on(self, path: Path) -> bool:
        """Hand ``path`` to its handler; False when there is none or it failed."""
        place = self._place(path)
        if place is None:
            return False
        agent_id, folder = place
        registry = self.registry.current()
        if agent_id not in registry or folder not in self.handlers:
            return False
        arrival = Arrival(registry.get(agent_id), folder, path)
        return await _guard(self.handlers[folder](arrival), f"handling {path}")

    def _place(self, path: Path) -> tuple[str, str] | None:
        """(agent id, folder) of a file directly in a watched folder, else None."""
        try:
            parts = path.relative_to(self.workspaces_dir).parts
        except ValueError:
            return None
        if len(parts) == 2 and parts[1] == STATUS_FILE:
            return parts[0], STATUS_FILE
        if len(parts) != 3 or is_temporary(parts[2]):
            return None
        return parts[0], parts[1]


# what changes a file in a watched folder (no opens, no closes of files only read)
_CHANGES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
]


class _Relay(FileSystemEventHandler):
    """Passes events from the observer's thread to the watcher's loop. An inbox file opened
    while ``quiet`` is locked (a backup reads every file), or just after, is no read."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[tuple[str, Path]],
        quiet: Path | None = None,
    ) -> None:
        self.loop = loop
        self.queue = queue
        self.quiet = quiet
        self._quiet_until = 0.0  # a lock seen held is taken as held this much longer

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        src = Path(_text(event.src_path))
        if isinstance(event, FileOpenedEvent):
            if src.parent.name == "inbox" and self._quiet():
                return
            items = [("opened" if src.parent.name == "inbox" else "changed", src)]
        elif isinstance(event, FileDeletedEvent):
            items = [("moved" if src.parent.name == "inbox" else "changed", src)]
        elif isinstance(event, FileMovedEvent):
            items = [("moved", src), ("renamed", Path(_text(event.dest_path)))]
        else:
            items = [("changed", src)]
        for item in items:
            with contextlib.suppress(RuntimeError):  # the loop closed while stopping
                self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def _quiet(self) -> bool:
        """The lock is held, or its folder changed a moment ago: the observer hands on
        events up to half a second late, after a short backup may have ended."""
        if self.quiet is None:
            return False
        now = time.monotonic()
        if now < self._quiet_until:
            return True
        try:
            changed = time.time() - self.quiet.parent.stat().st_mtime
        except OSError:
            changed = QUIET_AFTER_S
        if changed < QUIET_AFTER_S or flock_held(self.quiet):
            self._quiet_until = now + QUIET_CACHE_S
            return True
        return False


def _text(path: str | bytes) -> str:
    return path.decode(errors="surrogateescape") if isinstance(path, bytes) else path


def flock_held(path: Path) -> bool:
    """True when a process holds a ``flock`` on ``path`` (read from ``/proc/locks``, which,
    unlike trying the lock, never gets in the holder's way)."""
    try:
        info = path.stat()
        with open("/proc/locks") as locks:
            table = locks.read()
    except OSError:
        return False
    ident = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    return any(
        "FLOCK" in fields and ident in fields for fields in map(str.split, table.splitlines())
    )


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


async def _guard(work: Awaitable[None], what: str) -> bool:
    """A handler's failure is logged (False); the watcher goes on."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s failed; the file is offered again by the next scan", what)
        return False
    return True
