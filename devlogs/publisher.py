"""Posting what waits in the store: devlogs (summarized first when asked) and notices for
the operator, in order, each part once. A post that fails stays waiting with its error and
is tried again; one process of a home posts at a time (a lock file)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

from devlogs.entry import Devlog, Post, checked, render, split_parts
from devlogs.journal import Journal
from devlogs.post import Poster, PostError, PostKind
from devlogs.summary import Summarizer
from messaging.errors import StoreError
from messaging.lockfile import ProcessLock
from messaging.notices import Channel, Notices

log = logging.getLogger(__name__)

RETRY_S = 5.0  # after a failed post
_KINDS = {Channel.OPERATOR: PostKind.OPERATOR, Channel.STATUS: PostKind.STATUS}


class Publisher:
    def __init__(
        self,
        journal: Journal,
        notices: Notices,
        summarizer: Summarizer,
        poster: Poster | None,
        *,
        summarize_all: bool = False,
        poll_s: float = 0.25,
        archive: Path | None = None,
    ) -> None:
        self.journal = journal
        self.notices = notices
        self.summarizer = summarizer
        self.poster = poster
        self.summarize_all = summarize_all
        self.poll_s = poll_s  # what other processes of the home stored is found this often
        self.archive = archive  # a markdown copy of every devlog is kept here
        self._wake = asyncio.Event()
        # held while a devlog is kept and copied to the archive: a post of it (which may
        # say the home keeps it whole) waits for the copy
        self._keeping = asyncio.Lock()
        self._stopping = False

    async def submit(
        self,
        agent_id: str,
        title: str,
        body: str,
        *,
        summarize: bool = False,
        key: str | None = None,
    ) -> Devlog:
        """Keep a devlog and wake the posting; :class:`InvalidDevlogError` when it is not
        one."""
        title, body = checked(title, body)
        async with self._keeping:
            devlog = await self.journal.add(
                agent_id, title, body, summarize=summarize or self.summarize_all, key=key
            )
            if self.archive is not None:
                try:
                    await asyncio.to_thread(archive_copy, self.archive, devlog)
                except OSError as exc:  # the store keeps it anyway
                    log.warning("no archive copy of devlog %d: %s", devlog.seq, exc)
        self.wake()
        return devlog

    def wake(self) -> None:
        self._wake.set()

    def stop_soon(self) -> None:
        """Let :meth:`run` return after the post in flight: a post cut short by a cancel
        may reach Discord unrecorded and be posted again."""
        self._stopping = True
        self.wake()

    async def run(self) -> None:
        """Post what waits, then wait for more, until :meth:`stop_soon` (or cancelled)."""
        while not self._stopping:
            self._wake.clear()
            try:
                failed = await self.publish_waiting()
            except Exception:
                log.exception("posting failed; trying again")
                failed = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RETRY_S if failed else self.poll_s)

    async def publish_waiting(self) -> bool:
        """Post every waiting devlog and notice. False when all went; True when one
        failed (it waits for the next try)."""
        if self.poster is None:
            return False
        try:
            async with self._keeping:  # none posted before its archive copy is written
                waiting = await self.journal.unposted()
            for devlog in waiting:
                if self._stopping:
                    return False
                await self.publish(devlog)
            for notice in await self.notices.unposted():
                if self._stopping:
                    return False
                for part in split_parts(notice.text):
                    await self.poster.send(_KINDS[notice.channel], Post(part))
                await self.notices.posted(notice.seq)
        except (PostError, StoreError) as exc:
            log.warning("posting waits: %s", exc)
            return True
        return False

    async def publish(self, devlog: Devlog) -> None:
        assert self.poster is not None
        if devlog.summarize and devlog.summary is None and devlog.summary_error is None:
            summary = await self.summarizer.summarize(devlog.title, devlog.body)
            if summary.reason:
                log.warning("devlog %d is posted without a summary: %s", devlog.seq, summary.reason)
            await self.journal.summarized(devlog.seq, summary.text, summary.reason)
            devlog = await self.journal.get(devlog.seq) or devlog
        parts = render(devlog)
        for number in range(devlog.parts_posted, len(parts)):
            try:
                await self.poster.send(PostKind.DEVLOG, parts[number])
            except PostError as exc:
                await self.journal.not_posted(devlog.seq, str(exc))
                raise
            await self.journal.part_posted(devlog.seq, number + 1)
        await self.journal.posted(devlog.seq)


def archive_copy(folder: Path, devlog: Devlog) -> Path:
    """``<time>_<agent>_<seq>.md`` in ``folder``, written atomically (again: unchanged)."""
    stamp = devlog.created_at.strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{stamp}_{devlog.agent_id}_{devlog.seq}.md"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    text = (
        f"---\nagent: {devlog.agent_id}\ntitle: {devlog.title}\n"
        f"time: {devlog.created_at.isoformat()}\n---\n\n{devlog.body}\n"
    )
    temp = folder / f".{target.name}.tmp"
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, target)
    return target


class PosterLock(ProcessLock):
    """Held by the one process of a home that posts (the bot, or `deliver --watch`)."""
