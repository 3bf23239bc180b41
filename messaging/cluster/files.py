"""Agents' files on other machines: each desk forwards what its agents drop into
``outbox/`` and ``devlogs/`` and their ``status.json`` on its own stream
(``cellphone:files:<name>``), and the coordinator writes each into the same place of its own
home, where its watchers route and post them as if the agent were local (an agent on pc-2
messages one on pc-3; its devlogs reach the channel)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from agents.source import RegistrySource
from agents.watch import STATUS_FILE, Arrival, WorkspaceWatcher, is_temporary
from config.settings import ClusterSettings, WatchSettings
from messaging.cluster.wire import PREFIX, aioredis

log = logging.getLogger(__name__)
FORWARDED = "forwarded"  # where a desk keeps the outbox and devlog files it forwarded
FOLDERS = ("outbox", "devlogs", STATUS_FILE)


def files_stream(name: str) -> str:
    return f"{PREFIX}:files:{name}"


class Forwarder:
    """The desk's side: watches its home's workspaces and adds each file to its stream."""

    def __init__(
        self,
        name: str,
        redis: aioredis.Redis,
        workspaces_dir: Path,
        registry: RegistrySource,
        cluster: ClusterSettings,
        watch: WatchSettings,
    ) -> None:
        self.name = name
        self.redis = redis
        self.cluster = cluster
        self.max_bytes = watch.max_file_bytes
        self.watcher = WorkspaceWatcher(
            workspaces_dir,
            registry,
            dict.fromkeys(FOLDERS, self._forward),
            settle_s=watch.settle_s,
            rescan_s=watch.rescan_s,
        )

    async def _forward(self, arrival: Arrival) -> None:
        """Add the file to the stream, then move it aside (status.json stays). A file Redis
        cannot take now stays where it is, and the next scan offers it again."""
        data = await asyncio.to_thread(arrival.path.read_bytes)
        if len(data) > self.max_bytes:
            log.warning("%s is over watch.max_file_bytes; not forwarded", arrival.path)
            return
        await self.redis.xadd(
            files_stream(self.name),
            {
                "agent": arrival.agent.agent_id,
                "folder": arrival.folder,
                "name": arrival.path.name,
                "text": data.decode("utf-8", errors="replace"),
            },
            maxlen=self.cluster.stream_max_len,
            approximate=True,
        )
        if arrival.folder != STATUS_FILE:
            kept = arrival.path.parent / FORWARDED
            await asyncio.to_thread(_move, arrival.path, kept)


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    os.replace(path, folder / path.name)


def place(workspaces_dir: Path, agent_id: str, folder: str, name: str) -> Path | None:
    """Where the coordinator writes a forwarded file, or None for a name or folder that is
    no file of an agent's workspace (nothing from a desk becomes a path unchecked)."""
    if folder not in FOLDERS or "/" in agent_id or agent_id.startswith("."):
        return None
    if folder == STATUS_FILE:
        return workspaces_dir / agent_id / STATUS_FILE
    if "/" in name or "\\" in name or name in ("", ".", "..") or is_temporary(name):
        return None
    return workspaces_dir / agent_id / folder / name


def write_in_place(target: Path, text: str) -> None:
    """Write under a hidden name, then rename into place: the watchers take it whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".forwarded-{target.name}"
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, target)
