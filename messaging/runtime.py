"""Composing the messaging domain for one home: store, registry, desk, service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from agents.source import RegistrySource
from config import DeliveryMode, Home, Settings
from messaging.deliver import ScreenDeliverer
from messaging.desk import Desk
from messaging.pause import PauseFlag, WaitNote
from messaging.service import MessageService
from messaging.store import Store
from messaging.tmux.lane import TmuxLane


@dataclass
class Runtime:
    home: Home
    settings: Settings
    store: Store
    registry: RegistrySource
    desk: Desk
    service: MessageService

    @property
    def desk_here(self) -> bool:
        """True when this process runs the desk; False when another process does."""
        return self.desk.running


@asynccontextmanager
async def open_runtime(
    home: Home,
    settings: Settings,
    screen: ScreenDeliverer | None = None,
    *,
    start_desk: bool = True,
) -> AsyncIterator[Runtime]:
    registry: RegistrySource = RegistrySource(home.coordinates_file)
    registry.current()  # a missing or broken coordinates file stops start-up here
    store = await Store.open(home.database)
    cluster = None
    if settings.cluster.redis_url is not None:  # the coordinator of desks on other machines
        from messaging.cluster.coordinator import Coordinator  # loads redis only here

        cluster = Coordinator(settings.cluster, settings.cluster.redis_url)
        registry = cluster.union(registry)
    if screen is not None:
        screen.remember_looks_in(home.var_dir / "looks")
    panes = None
    if settings.messaging.delivery_mode is not DeliveryMode.INBOX:
        panes = TmuxLane(settings.tmux, home.var_dir / "tmux")
    desk = Desk(
        store,
        registry,
        home.workspaces_dir,
        settings,
        screen=screen,
        lock_path=home.var_dir / "desk.lock",
        pause_flag=PauseFlag.of(home),
        wait_note=WaitNote.of(home),
        panes=panes,
        remote=cluster,
    )
    service = MessageService(
        store,
        registry,
        desk,
        settings,
        screen_enabled=screen is not None,
        tmux_enabled=panes is not None,
        remote=cluster.owns if cluster is not None else None,
    )
    try:
        if cluster is not None:
            await cluster.start()
        if start_desk:
            await desk.start()
        if cluster is not None and desk.running:
            cluster.serve(desk)
        yield Runtime(home, settings, store, registry, desk, service)
    finally:
        try:
            await desk.stop()
        finally:
            if cluster is not None:
                await cluster.stop()
            await store.close()
